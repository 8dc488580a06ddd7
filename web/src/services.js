// #/services: the server's services, one's config and preflight checks, and a run with input.
import { ApiError, getJson } from './api.js';
import { h, clear, setText } from './dom.js';
import { createOutputPanel, createRunControl } from './output.js';

let lastSelected = '';
let lastInput = '';

export function mountServices(container) {
  const list = h('ul', { id: 'services-list', class: 'services-list' }, h('li', { class: 'muted', text: 'loading…' }));
  const listError = h('p', { class: 'error', role: 'alert' });
  const title = h('h2', { id: 'service-title', text: 'Select a service' });
  const config = h('pre', { id: 'service-config', class: 'config' });
  const preflight = h('ul', { id: 'preflight', class: 'preflight' });
  const preflightOverall = h('span', { id: 'preflight-overall', class: 'badge' });
  const input = h('textarea', { id: 'service-input', rows: 4, spellcheck: 'false', placeholder: '{"any": "JSON"}' });
  const inputError = h('p', { id: 'service-input-error', class: 'error', role: 'alert' });
  const runBtn = h('button', { id: 'service-run', type: 'button', class: 'primary', text: 'Run', disabled: true });
  const cancelBtn = h('button', { id: 'service-cancel', type: 'button', text: 'Cancel', disabled: true });
  const panel = createOutputPanel({
    status: 'service-status', exitCode: 'service-exit-code', error: 'service-error', stdout: 'service-stdout',
    stderr: 'service-stderr', metrics: 'service-metrics', files: 'service-files',
  });
  const detail = h('div', { class: 'service-detail', hidden: true },
    h('h3', { text: 'config' }), config,
    h('h3', {}, 'preflight ', preflightOverall), preflight,
    h('div', { class: 'field' }, h('label', { for: 'service-input', text: 'input (JSON)' }), input), inputError,
    h('div', { class: 'buttons' }, runBtn, cancelBtn),
    panel.root);
  container.append(h('section', { class: 'view services' },
    h('aside', { class: 'services-aside' }, h('h2', { text: 'Services' }), listError, list),
    h('div', { class: 'services-main' }, title, detail)));

  let selected = '';
  const control = createRunControl(panel, runBtn, cancelBtn);
  let gone = false;

  async function loadList() {
    try {
      const doc = await getJson('/services');
      if (gone) return;
      clear(list);
      for (const s of doc.services || []) {
        const item = h('li', { class: 'service', dataset: { name: s.name }, tabindex: 0, role: 'button' },
          h('span', { class: 'service-name', text: s.name }),
          h('span', { class: 'muted', text: ` ${s.runtime} · ${s.entry}` }));
        item.addEventListener('click', () => select(s.name));
        item.addEventListener('keydown', (e) => { if (e.key === 'Enter') select(s.name); });
        list.append(item);
      }
      for (const bad of doc.invalid || []) {
        list.append(h('li', { class: 'service invalid', dataset: { name: bad.name || '', directory: bad.directory || '' } },
          h('span', { class: 'service-name', text: bad.name || bad.directory }),
          h('span', { class: 'error', text: ` ${bad.error}` })));
      }
      if (!list.firstChild) list.append(h('li', { class: 'muted', text: 'no services (start the server with --services DIR)' }));
      if (lastSelected && (doc.services || []).some((s) => s.name === lastSelected)) select(lastSelected);
    } catch (e) {
      if (!gone) setText(listError, e.message);
    }
  }

  async function select(name) {
    control.abort();
    selected = name;
    lastSelected = name;
    for (const li of list.querySelectorAll('.service')) li.classList.toggle('selected', li.dataset.name === name);
    setText(title, name);
    detail.hidden = false;
    runBtn.disabled = false;
    setText(config, 'loading…');
    clear(preflight);
    setText(preflightOverall, '');
    input.value = lastInput;
    const path = `/services/${encodeURIComponent(name)}`;
    const [cfg, pre] = await Promise.allSettled([getJson(path), getJson(`${path}/preflight`)]);
    if (gone || selected !== name) return;
    setText(config, cfg.status === 'fulfilled' ? JSON.stringify(cfg.value, null, 2) : cfg.reason.message);
    if (pre.status === 'fulfilled') {
      const p = pre.value.preflight || {};
      setText(preflightOverall, p.overallStatus || '');
      preflightOverall.dataset.status = p.overallStatus || '';
      for (const c of p.checks || []) {
        preflight.append(h('li', { class: 'check', dataset: { status: String(c.status) } },
          h('span', { class: 'check-status', text: c.status }),
          h('span', { class: 'check-name', text: c.name }),
          h('span', { class: 'check-message', text: c.message })));
      }
    } else {
      preflight.append(h('li', { class: 'error', text: pre.reason instanceof ApiError ? pre.reason.message : String(pre.reason) }));
    }
  }

  async function run() {
    if (!selected || control.busy) return;
    setText(inputError, '');
    let value = null;
    if (input.value.trim() !== '') {
      try {
        value = JSON.parse(input.value);
      } catch (e) {
        setText(inputError, `input is not valid JSON: ${e.message}`);
        return;
      }
    }
    lastInput = input.value;
    await control.start(`/services/${encodeURIComponent(selected)}/execute?stream=1`, { input: value });
  }

  runBtn.addEventListener('click', run);
  input.addEventListener('keydown', (e) => { if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) run(); });
  loadList();

  return () => {
    gone = true;
    lastInput = input.value;
    control.abort();
  };
}
