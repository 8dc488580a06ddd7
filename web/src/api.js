// The UI's only door to the server: same-origin fetches carrying the API key (kept in
// sessionStorage only: gone with the tab, never sent as a cookie), JSON errors turned into
// ApiError, and streamed runs read as server-sent events.
import { createSseParser } from './sse.js';

const KEY_NAME = 'ignite.apiKey';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

let unauthorizedHandler = () => {};

export function onUnauthorized(handler) {
  unauthorizedHandler = handler;
}

export function getKey() {
  return sessionStorage.getItem(KEY_NAME) || '';
}

export function setKey(key) {
  sessionStorage.setItem(KEY_NAME, key);
}

export function clearKey() {
  sessionStorage.removeItem(KEY_NAME);
}

// `key` overrides the stored key (the login form tries one before keeping it); a 401 then
// does not send the app back to the login form.
async function send(method, path, { body, signal, key, accept } = {}) {
  const headers = { Accept: accept || 'application/json' };
  const useKey = key !== undefined ? key : getKey();
  if (useKey) headers.Authorization = `Bearer ${useKey}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
    credentials: 'omit',
    cache: 'no-store',
  });
  if (res.ok) return res;
  let code = `http_${res.status}`;
  let message = `${method} ${path}: HTTP ${res.status}`;
  try {
    const doc = await res.json();
    if (doc && doc.error) {
      code = doc.error.code || code;
      message = doc.error.message || message;
    }
  } catch {
    // Not JSON: keep the status line.
  }
  if (res.status === 401 && key === undefined) unauthorizedHandler();
  throw new ApiError(res.status, code, message);
}

export async function getJson(path, options) {
  return (await send('GET', path, options)).json();
}

export async function getText(path, options) {
  return (await send('GET', path, options)).text();
}

// POSTs `body` and calls onEvent({event, data}) per server-sent event until the stream ends.
// A server that answers with plain JSON instead (no stream) is reported as one result event.
export async function stream(path, body, { signal, onEvent }) {
  const res = await send('POST', path, { body, signal, accept: 'text/event-stream' });
  const type = res.headers.get('Content-Type') || '';
  if (!type.startsWith('text/event-stream')) {
    onEvent({ event: 'result', data: await res.text() });
    return;
  }
  const parser = createSseParser(onEvent);
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parser.push(decoder.decode(value, { stream: true }));
  }
  parser.push(decoder.decode());
  parser.end();
}
