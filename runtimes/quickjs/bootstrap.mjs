// QuickJS bootstrap: gives a plain `qjs` the small part of Node's globals that service code
// relies on (process.env, process.argv, process.exit, console.log/error to the right stream,
// timers), then imports the service's entry. It runs as
//   qjs --std -m /opt/ignite/quickjs/bootstrap.mjs /app/<entry> [args...]
// so scriptArgs is [bootstrap, entry, ...args]. Installed next to bin/qjs in the runtime store
// by `ignite runtimes install quickjs` and by scripts/install-deps (the same file, byte for byte).
import * as std from 'std';
import * as os from 'os';

// ---- value formatting: a small, Node-like util.inspect so console.log({a: 1}) prints
// `{ a: 1 }` as on the other runtimes, not QuickJS's `[object Object]`.
const kBreakLength = 80;
const kMaxDepth = 2;

function quote(s) {
  const q = s.includes("'") && !s.includes('"') ? '"' : "'";
  const body = s.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\t/g, '\\t');
  return q + (q === "'" ? body.replace(/'/g, "\\'") : body) + q;
}

function key(k) {
  if (typeof k === 'symbol') return `[${String(k)}]`;
  return /^[A-Za-z_$][\w$]*$/.test(k) ? k : quote(k);
}

function formatError(e) {
  const head = `${e.name || 'Error'}: ${e.message}`;
  const stack = typeof e.stack === 'string' ? e.stack.replace(/\s+$/, '') : '';
  // QuickJS stacks are only the "    at ..." lines; Node's start with the message.
  if (!stack) return head;
  return stack.startsWith(head) ? stack : `${head}\n${stack}`;
}

// Joins entries on one line when they fit, else one per line (Node breaks at 80 columns).
function group(open, entries, close, indent) {
  if (entries.length === 0) return `${open}${close}`;
  const oneLine = `${open} ${entries.join(', ')} ${close}`;
  if (oneLine.length + indent.length <= kBreakLength && !oneLine.includes('\n')) return oneLine;
  const pad = indent + '  ';
  return `${open}\n${pad}${entries.join(`,\n${pad}`)}\n${indent}${close}`;
}

function inspect(v, depth, seen, indent) {
  switch (typeof v) {
    case 'string': return depth === 0 ? v : quote(v);
    case 'number': return Object.is(v, -0) ? '-0' : String(v);
    case 'bigint': return `${v}n`;
    case 'boolean': case 'undefined': case 'symbol': return String(v);
    case 'function':
      return /^class\s/.test(Function.prototype.toString.call(v))
        ? `[class ${v.name || '(anonymous)'}]` : `[Function: ${v.name || '(anonymous)'}]`;
  }
  if (v === null) return 'null';
  if (v instanceof Error) return formatError(v);
  if (v instanceof Date) return isNaN(v) ? 'Invalid Date' : v.toISOString();
  if (v instanceof RegExp) return String(v);
  if (seen.includes(v)) return '[Circular]';
  const isArray = Array.isArray(v);
  if (depth > kMaxDepth) return isArray ? '[Array]' : '[Object]';
  const inner = [...seen, v];
  const sub = (x) => inspect(x, depth + 1, inner, indent + '  ');
  if (isArray) return group('[', v.map(sub), ']', indent);
  if (v instanceof Map) {
    const items = [...v].map(([k, x]) => `${sub(k)} => ${sub(x)}`);
    return group(`Map(${v.size}) {`, items, '}', indent);
  }
  if (v instanceof Set) return group(`Set(${v.size}) {`, [...v].map(sub), '}', indent);
  const entries = Object.keys(v).map((k) => `${key(k)}: ${sub(v[k])}`);
  const proto = Object.getPrototypeOf(v);
  const name = proto && proto !== Object.prototype && proto.constructor ? proto.constructor.name : '';
  return group(name ? `${name} {` : proto === null ? '[Object: null prototype] {' : '{', entries, '}', indent);
}

// console.log's printf-like first argument (%s %d %i %f %j %o %O %%), as util.format does.
function format(args) {
  let rest = args;
  let head = '';
  if (typeof args[0] === 'string' && args[0].includes('%')) {
    let i = 1;
    head = args[0].replace(/%([sdifjoO%])/g, (m, c) => {
      if (c === '%') return '%';
      if (i >= args.length) return m;
      const a = args[i++];
      switch (c) {
        case 's': return typeof a === 'string' ? a : inspect(a, 1, [], '');
        case 'd': case 'i': return String(c === 'i' ? parseInt(a, 10) : Number(a));
        case 'f': return String(parseFloat(a));
        case 'j': try { return JSON.stringify(a); } catch (e) { return '[Circular]'; }
        default: return inspect(a, 1, [], '');
      }
    });
    rest = args.slice(i);
    return [head, ...rest.map((a) => inspect(a, 0, [], ''))].join(' ');
  }
  return rest.map((a) => inspect(a, 0, [], '')).join(' ');
}

const write = (file) => (s) => { file.puts(String(s)); file.flush(); return true; };
const out = write(std.out);
const err = write(std.err);

globalThis.console = {
  log: (...a) => out(format(a) + '\n'),
  info: (...a) => out(format(a) + '\n'),
  debug: (...a) => out(format(a) + '\n'),
  error: (...a) => err(format(a) + '\n'),
  warn: (...a) => err(format(a) + '\n'),
  trace: (...a) => err(`Trace: ${format(a)}\n${new Error().stack}`),
  dir: (v) => out(inspect(v, 1, [], '') + '\n'),
};

// ---- process: what scripts read most (env, argv, exit, stdout/stderr, cwd).
const entryArg = scriptArgs[1];
const started = Date.now();
globalThis.process = {
  env: std.getenviron(),
  argv: ['/opt/ignite/quickjs/bin/qjs', entryArg, ...scriptArgs.slice(2)],
  argv0: 'qjs',
  execPath: '/opt/ignite/quickjs/bin/qjs',
  platform: 'linux',
  arch: 'x64',
  pid: os.getpid ? os.getpid() : 1,
  version: 'v0.0.0',
  versions: { quickjs: '2021-03-27' },
  release: { name: 'quickjs' },
  exitCode: undefined,
  exit(code) {
    std.out.flush();
    std.exit(code === undefined ? (process.exitCode ?? 0) : Number(code) | 0);
  },
  cwd: () => os.getcwd()[0],
  uptime: () => (Date.now() - started) / 1000,
  nextTick: (fn, ...a) => { Promise.resolve().then(() => fn(...a)); },
  stdout: { write: out, isTTY: false },
  stderr: { write: err, isTTY: false },
  on() { return process; },
  once() { return process; },
};

// ---- timers: QuickJS has os.setTimeout; setInterval is built on it.
const intervals = new Map();
let nextInterval = 1;
globalThis.setTimeout = (fn, ms = 0, ...a) => os.setTimeout(() => fn(...a), ms);
globalThis.clearTimeout = (t) => { if (t !== undefined) os.clearTimeout(t); };
globalThis.setInterval = (fn, ms = 0, ...a) => {
  const id = nextInterval++;
  const tick = () => { intervals.set(id, os.setTimeout(tick, ms)); fn(...a); };
  intervals.set(id, os.setTimeout(tick, ms));
  return id;
};
globalThis.clearInterval = (id) => {
  if (intervals.has(id)) os.clearTimeout(intervals.get(id));
  intervals.delete(id);
};
globalThis.setImmediate = (fn, ...a) => os.setTimeout(() => fn(...a), 0);
globalThis.queueMicrotask ??= (fn) => { Promise.resolve().then(fn); };
globalThis.global = globalThis;

// ---- run the entry. A failure to load or run it is the program's error: message and stack
// on stderr, exit 1, as Node does for an uncaught exception.
function die(e) {
  err((e instanceof Error ? formatError(e) : `Uncaught ${inspect(e, 1, [], '')}`) + '\n');
  std.exit(1);
}

if (!entryArg) die(new Error('usage: qjs --std -m bootstrap.mjs <entry> [args...]'));
const entry = entryArg.startsWith('/') ? entryArg : `${os.getcwd()[0]}/${entryArg}`;
// process.exitCode is honoured when the entry's top-level code has run: QuickJS offers no hook
// at the end of its event loop, so a code set later by a timer is not seen.
import(entry).then(() => {
  if (process.exitCode !== undefined && process.exitCode !== 0) process.exit(process.exitCode);
}, die);
