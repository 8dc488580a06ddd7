// One run's output, shared by the playground and the services view: live stdout/stderr, the
// result's status, exit code, metrics and /out files, or the error that stopped it.
// Everything a program produced is put in as text (textContent) or as an <img> of a data: URL.
import { ApiError, stream } from './api.js';
import { h, clear, setText } from './dom.js';

const IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/svg+xml']);

export function formatMs(ms) {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '–';
  return ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(ms < 10 ? 1 : 0)} ms`;
}

export function formatBytes(bytes) {
  if (typeof bytes !== 'number' || !Number.isFinite(bytes)) return '–';
  if (bytes >= 1024 * 1024 * 1024) return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} B`;
}

// ids: the element ids to use, e.g. {stdout: 'stdout'} or {stdout: 'service-stdout'}.
export function createOutputPanel(ids) {
  const metric = (name, label) =>
    h('div', { class: 'metric' }, h('span', { class: 'metric-label', text: label }), h('span', { class: 'metric-value', dataset: { metric: name }, text: '–' }));
  const el = {
    status: h('span', { id: ids.status, class: 'status', text: 'idle' }),
    exitCode: h('span', { id: ids.exitCode, class: 'exit-code', text: '–' }),
    error: h('p', { id: ids.error, class: 'error', role: 'alert' }),
    stdout: h('pre', { id: ids.stdout, class: 'stream stdout' }),
    stderr: h('pre', { id: ids.stderr, class: 'stream stderr' }),
    metrics: h('div', { id: ids.metrics, class: 'metrics' },
      metric('wall', 'wall'), metric('cpu', 'cpu'), metric('memory', 'peak memory'), metric('pids', 'processes'), metric('cold', 'start')),
    files: h('div', { id: ids.files, class: 'files' }),
  };
  const root = h('div', { class: 'output' },
    h('div', { class: 'result-line' },
      h('span', { class: 'label', text: 'status' }), el.status,
      h('span', { class: 'label', text: 'exit code' }), el.exitCode),
    el.error,
    el.metrics,
    h('h3', { text: 'stdout' }), el.stdout,
    h('h3', { text: 'stderr' }), el.stderr,
    el.files);

  const decoders = { stdout: new TextDecoder(), stderr: new TextDecoder() };

  function setStatus(text) {
    setText(el.status, text);
    el.status.dataset.status = text;
  }

  function reset() {
    setStatus('running…');
    setText(el.exitCode, '–');
    setText(el.error, '');
    setText(el.stdout, '');
    setText(el.stderr, '');
    clear(el.files);
    for (const v of el.metrics.querySelectorAll('[data-metric]')) setText(v, '–');
    decoders.stdout = new TextDecoder();
    decoders.stderr = new TextDecoder();
  }

  function append(channel, payload) {
    let text = '';
    if (typeof payload.text === 'string') text = payload.text;
    else if (typeof payload.base64 === 'string') text = decoders[channel].decode(base64Bytes(payload.base64), { stream: true });
    el[channel].append(document.createTextNode(text));
  }

  function showResult(doc) {
    setStatus(String(doc.status ?? (doc.success ? 'ok' : 'failed')));
    setText(el.exitCode, doc.exitCode ?? (doc.signal ? `signal ${doc.signal}` : '–'));
    // The result's copy is the whole output (the live chunks may have missed the start).
    if (typeof doc.stdout === 'string' && doc.stdout !== el.stdout.textContent) setText(el.stdout, doc.stdout);
    if (typeof doc.stderr === 'string' && doc.stderr !== el.stderr.textContent) setText(el.stderr, doc.stderr);
    if (doc.stdoutTruncated) el.stdout.append(document.createTextNode('\n[output truncated]'));
    const m = doc.metrics || {};
    const put = (name, text) => setText(el.metrics.querySelector(`[data-metric="${name}"]`), text);
    put('wall', formatMs(m.executionTimeMs));
    put('cpu', formatMs(m.cpuTimeMs));
    put('memory', typeof m.memoryPeakBytes === 'number' ? formatBytes(m.memoryPeakBytes)
      : typeof m.memoryUsedMb === 'number' ? `${m.memoryUsedMb.toFixed(1)} MB` : '–');
    put('pids', typeof m.pidsPeak === 'number' ? `${m.pidsPeak} pids` : '–');
    put('cold', m.coldStart === true ? 'cold' : m.coldStart === false ? 'warm' : '–');
    showFiles(el.files, doc.files);
    if (doc.error && typeof doc.error === 'object') setText(el.error, `${doc.error.code || 'error'}: ${doc.error.message || ''}`);
  }

  function showError(code, message) {
    setStatus(code === 'cancelled' ? 'cancelled' : 'error');
    setText(el.error, code === 'cancelled' ? 'cancelled' : `${code}: ${message}`);
  }

  return { root, reset, append, showResult, showError };
}

function base64Bytes(text) {
  const bin = atob(text);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

function showFiles(container, files) {
  clear(container);
  if (!Array.isArray(files) || files.length === 0) return;
  container.append(h('h3', { text: 'files in /out' }));
  for (const f of files) {
    const path = String(f.path ?? '');
    const type = String(f.mimeType ?? '');
    const caption = h('figcaption', { text: `${path} · ${type || 'unknown type'} · ${formatBytes(f.size)}` });
    let body;
    const content = typeof f.content === 'string' ? f.content : '';
    if (IMAGE_TYPES.has(type) && f.encoding === 'base64' && /^[A-Za-z0-9+/=\s]*$/.test(content)) {
      // Security: an image (SVG too) is shown only as <img>, which runs no script in it.
      body = h('img', { src: `data:${type};base64,${content.replace(/\s/g, '')}`, alt: path });
    } else if (type === 'image/svg+xml' && f.encoding === 'utf8') {
      body = h('img', { src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(content)}`, alt: path });
    } else if (f.encoding === 'utf8') {
      body = h('pre', { class: 'file-text', text: content });
    } else {
      body = h('p', { class: 'muted', text: `binary file (${formatBytes(f.size)}), not shown` });
    }
    container.append(h('figure', { class: 'out-file', dataset: { path } }, body, caption));
  }
}

// Streams one run into `panel`. Resolves when it ended (result, error, or cancelled).
export async function runInto(panel, path, body, signal) {
  panel.reset();
  let finished = false;
  try {
    await stream(path, body, {
      signal,
      onEvent({ event, data }) {
        let doc;
        try {
          doc = JSON.parse(data);
        } catch {
          panel.showError('bad_stream', `the server sent an event that is not JSON (${event})`);
          finished = true;
          return;
        }
        if (event === 'stdout' || event === 'stderr') panel.append(event, doc);
        else if (event === 'result') {
          panel.showResult(doc);
          finished = true;
        } else if (event === 'error') {
          const e = doc.error || {};
          panel.showError(e.code || 'error', e.message || 'the run failed');
          finished = true;
        }
      },
    });
    if (!finished) panel.showError('stream_ended', 'the stream ended before the result arrived');
  } catch (e) {
    if (e.name === 'AbortError') panel.showError('cancelled', 'cancelled');
    else if (e instanceof ApiError) panel.showError(e.code, e.message);
    else panel.showError('network', e.message || String(e));
  }
}

// One run at a time behind a Run and a Cancel button. Cancel aborts the fetch, which closes the
// connection; the server cancels the run when its client goes.
export function createRunControl(panel, runBtn, cancelBtn) {
  let controller = null;
  const abort = () => controller && controller.abort();
  cancelBtn.addEventListener('click', abort);
  return {
    get busy() {
      return controller !== null;
    },
    abort,
    async start(path, body) {
      if (controller) return;
      controller = new AbortController();
      runBtn.disabled = true;
      cancelBtn.disabled = false;
      try {
        await runInto(panel, path, body, controller.signal);
      } finally {
        controller = null;
        runBtn.disabled = false;
        cancelBtn.disabled = true;
      }
    },
  };
}
