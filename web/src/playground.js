// #/playground: pick a runtime, write code, run it and watch its output arrive.
import { h, setText } from './dom.js';
import { createEditor } from './editor.js';
import { EXAMPLES, examplesFor, defaultLanguage } from './examples.js';
import { createOutputPanel, createRunControl } from './output.js';

// Kept across views, so going to the dashboard and back does not lose the code.
const saved = { runtime: '', language: '', code: null, profile: '', stdin: '', input: '', timeout: '', memory: '' };

export function encodeShare(code) {
  let bin = '';
  for (const b of new TextEncoder().encode(code)) bin += String.fromCharCode(b);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function decodeShare(text) {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  return new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
}

function parseLimit(text, what) {
  if (text.trim() === '') return { value: undefined };
  const n = Number(text);
  if (!Number.isInteger(n) || n <= 0) return { error: `${what} must be a positive whole number` };
  return { value: n };
}

// ctx: {runtimes: [{name, version, label}]}; query: URLSearchParams of the hash.
export function mountPlayground(container, ctx, query) {
  const runtimes = ctx.runtimes;
  const runtimeSel = h('select', { id: 'runtime', 'aria-label': 'runtime' },
    runtimes.map((r) => h('option', { value: `${r.name}@${r.version}`, text: r.label || `${r.name}@${r.version}` })));
  const languageSel = h('select', { id: 'language', 'aria-label': 'language' },
    h('option', { value: 'javascript', text: 'JavaScript' }), h('option', { value: 'typescript', text: 'TypeScript' }));
  const profileSel = h('select', { id: 'profile', 'aria-label': 'profile' },
    h('option', { value: '', text: 'no profile' }), h('option', { value: 'datascience', text: 'datascience' }));
  const examplesSel = h('select', { id: 'examples', 'aria-label': 'examples' });
  const runBtn = h('button', { id: 'run', type: 'button', class: 'primary', text: 'Run', title: 'Ctrl+Enter' });
  const cancelBtn = h('button', { id: 'cancel', type: 'button', text: 'Cancel', disabled: true });
  const shareBtn = h('button', { id: 'share', type: 'button', text: 'Share' });
  const shareUrl = h('input', { id: 'share-url', type: 'text', readonly: true, 'aria-label': 'share link', placeholder: 'Share puts a link to this code here' });
  const stdin = h('textarea', { id: 'stdin', rows: 3, spellcheck: 'false' });
  const inputJson = h('textarea', { id: 'input-json', rows: 3, spellcheck: 'false', placeholder: '{"any": "JSON"}' });
  const inputError = h('p', { id: 'input-error', class: 'error', role: 'alert' });
  const timeout = h('input', { id: 'limit-timeout', type: 'number', min: 1, step: 1, placeholder: 'server default' });
  const memory = h('input', { id: 'limit-memory', type: 'number', min: 1, step: 1, placeholder: 'server default' });
  const editorHost = h('div', { id: 'editor', class: 'editor' });
  const panel = createOutputPanel({ status: 'status', exitCode: 'exit-code', error: 'run-error', stdout: 'stdout', stderr: 'stderr', metrics: 'metrics', files: 'files' });

  const field = (label, id, control) => h('div', { class: 'field' }, h('label', { for: id, text: label }), control);
  const languageField = field('Language', 'language', languageSel);
  container.append(h('section', { class: 'view playground' },
    h('div', { class: 'toolbar' },
      field('Runtime', 'runtime', runtimeSel), languageField,
      field('Profile', 'profile', profileSel), field('Example', 'examples', examplesSel),
      h('div', { class: 'buttons' }, runBtn, cancelBtn, shareBtn)),
    h('div', { class: 'split' },
      h('div', { class: 'code' }, editorHost, h('div', { class: 'share' }, shareUrl)),
      h('div', { class: 'side' },
        field('stdin', 'stdin', stdin),
        field('input (JSON, as IGNITE_INPUT)', 'input-json', inputJson), inputError,
        h('div', { class: 'limits' }, field('timeout (ms)', 'limit-timeout', timeout), field('memory (MB)', 'limit-memory', memory)))),
    panel.root));

  const rtName = () => runtimeSel.value.split('@')[0];
  const isTsCapable = () => ['deno', 'bun'].includes(rtName());
  const language = () => (isTsCapable() ? languageSel.value : defaultLanguage(rtName()));

  function fillExamples() {
    examplesSel.replaceChildren(h('option', { value: '', text: 'load an example…' }),
      ...examplesFor(rtName()).map((e) => h('option', { value: e.id, text: e.title })));
  }

  function syncControls() {
    // JavaScript or TypeScript: a choice only where the runtime runs TypeScript as is.
    languageField.hidden = !isTsCapable();
    if (!isTsCapable()) languageSel.value = 'javascript';
    profileSel.disabled = rtName() !== 'python';
    if (profileSel.disabled) profileSel.value = '';
    editor.setLanguage(language());
  }

  // Initial state: a shared link, else what was here before, else the first runtime's example.
  let initialCode = saved.code;
  let initialRuntime = saved.runtime;
  let initialLanguage = saved.language;
  if (query.get('rt') || query.get('code')) {
    initialRuntime = query.get('rt') || initialRuntime;
    initialLanguage = query.get('lang') === 'ts' ? 'typescript' : 'javascript';
    try {
      initialCode = decodeShare(query.get('code') || '');
    } catch {
      setText(panel.root.querySelector('.error'), 'the shared link holds no readable code');
    }
  }
  const known = runtimes.find((r) => `${r.name}@${r.version}` === initialRuntime)
    || runtimes.find((r) => r.name === (initialRuntime || '').split('@')[0])
    || runtimes.find((r) => r.name === 'python') || runtimes[0];
  if (known) runtimeSel.value = `${known.name}@${known.version}`;
  languageSel.value = initialLanguage || 'javascript';
  profileSel.value = saved.profile;
  stdin.value = saved.stdin;
  inputJson.value = saved.input;
  timeout.value = saved.timeout;
  memory.value = saved.memory;
  if (initialCode == null) initialCode = (examplesFor(rtName())[0] || EXAMPLES[0]).code;

  const editor = createEditor(editorHost, { doc: initialCode, language: language(), onRun: run });
  fillExamples();
  syncControls();

  runtimeSel.addEventListener('change', () => {
    const before = editor.getCode();
    fillExamples();
    syncControls();
    // Replace the code only while it is still an unedited example (of another runtime).
    if (before.trim() === '' || EXAMPLES.some((e) => e.code === before && !e.runtimes.includes(rtName()))) {
      const first = examplesFor(rtName()).find((e) => e.language === language()) || examplesFor(rtName())[0];
      if (first) editor.setCode(first.code);
    }
  });
  languageSel.addEventListener('change', syncControls);
  examplesSel.addEventListener('change', () => {
    const ex = EXAMPLES.find((e) => e.id === examplesSel.value);
    if (!ex) return;
    if (ex.language === 'typescript' || ex.language === 'javascript') languageSel.value = ex.language;
    if (ex.profile && rtName() === 'python') profileSel.value = ex.profile;
    syncControls();
    editor.setCode(ex.code);
    examplesSel.value = '';
    editor.focus();
  });
  inputJson.addEventListener('input', () => setText(inputError, ''));

  const control = createRunControl(panel, runBtn, cancelBtn);

  function request() {
    let input;
    if (inputJson.value.trim() !== '') {
      try {
        input = JSON.parse(inputJson.value);
      } catch (e) {
        setText(inputError, `input is not valid JSON: ${e.message}`);
        return null;
      }
    }
    const t = parseLimit(timeout.value, 'timeout');
    const m = parseLimit(memory.value, 'memory');
    if (t.error || m.error) {
      setText(inputError, t.error || m.error);
      return null;
    }
    const [name, version] = runtimeSel.value.split('@');
    const body = { runtime: name, version };
    const code = editor.getCode();
    if (language() === 'typescript') body.files = [{ name: 'main.ts', content: code }];
    else body.code = code;
    if (stdin.value !== '') body.stdin = stdin.value;
    if (input !== undefined) body.input = input;
    if (t.value) body.timeoutMs = t.value;
    if (m.value) body.memoryMb = m.value;
    if (profileSel.value && name === 'python') body.profile = profileSel.value;
    return body;
  }

  async function run() {
    if (control.busy) return;
    setText(inputError, '');
    const body = request();
    if (body) await control.start('/v1/execute?stream=1', body);
  }

  runBtn.addEventListener('click', run);
  shareBtn.addEventListener('click', () => {
    const params = new URLSearchParams({ rt: runtimeSel.value, code: encodeShare(editor.getCode()) });
    if (language() === 'typescript') params.set('lang', 'ts');
    const hash = `#/playground?${params}`;
    history.replaceState(null, '', hash);
    shareUrl.value = `${location.origin}${location.pathname}${hash}`;
    shareUrl.select();
  });

  return () => {
    control.abort();
    Object.assign(saved, {
      runtime: runtimeSel.value, language: languageSel.value, code: editor.getCode(), profile: profileSel.value,
      stdin: stdin.value, input: inputJson.value, timeout: timeout.value, memory: memory.value,
    });
    editor.view.destroy();
  };
}
