// Ignite's warm-slot bootstrap for Deno (protocol: src/sandbox/common/handoff.hpp).
// Ours and trusted, but it runs inside the sandbox with the program's identity, limits and
// permission flags, before the program exists. It starts the runtime, says it is ready, reads
// the job from stdin (exactly its length: the rest of stdin is the program's) and imports the
// entry, as `deno run <flags> <entry>` would.
function read(n) {
  const buf = new Uint8Array(n);
  for (let off = 0; off < n;) {
    const got = Deno.stdin.readSync(buf.subarray(off));
    if (got === null || got === 0) Deno.exit(0);  // the slot was closed without a job
    off += got;
  }
  return buf;
}

function headerLength() {
  let digits = '';
  for (let c = ''; c !== '\n'; c = String.fromCharCode(read(1)[0])) digits += c;
  return Number(digits);
}

Deno.stdout.writeSync(new TextEncoder().encode('\0ignite-ready\n'));
const job = JSON.parse(new TextDecoder().decode(read(headerLength())));
// The slot started with the job's environment minus its input variables; what the runtime
// set for itself as it started stays (deno prepends its node_compat_bin to PATH), as it would
// in a cold start.
for (const kv of job.env) {
  const eq = kv.indexOf('=');
  if (Deno.env.get(kv.slice(0, eq)) === undefined) Deno.env.set(kv.slice(0, eq), kv.slice(eq + 1));
}
Deno.chdir(job.cwd);
Object.defineProperty(Deno, 'args', { value: job.argv.slice(1), configurable: true });
// Node compatibility: process.argv is [deno, entry, ...args] in a cold run. Deno loads its Node
// layer on the first use of `process` (~30 ms), so it is patched then, not loaded here.
const processProperty = Object.getOwnPropertyDescriptor(globalThis, 'process');
if (processProperty?.get && processProperty.configurable) {
  let patched = false;
  Object.defineProperty(globalThis, 'process', {
    ...processProperty,
    get() {
      const p = processProperty.get.call(this);
      if (!patched && p) {
        patched = true;
        p.argv = [p.argv[0], ...job.argv];
      }
      return p;
    },
  });
}
const entry = new URL('file://' + job.argv[0]);
Object.defineProperty(Deno, 'mainModule', { value: entry.href, configurable: true });
await import(entry.href);
