// Ignite's warm-slot bootstrap for Node and Bun (protocol: src/sandbox/common/handoff.hpp).
// Ours and trusted, but it runs inside the sandbox with the program's identity and limits,
// before the program exists. It starts the runtime, says it is ready, reads the job from stdin
// (exactly its length: the rest of stdin is the program's) and then runs the entry through
// Node's own main-module loader, as `node <entry> <args>` would (CommonJS or ESM alike).
'use strict';
const fs = require('fs');

function read(n) {
  const buf = Buffer.alloc(n);
  for (let off = 0; off < n;) {
    let got;
    try {
      got = fs.readSync(0, buf, off, n - off, null);
    } catch (e) {
      if (e.code === 'EAGAIN') continue;
      throw e;
    }
    if (got === 0) process.exit(0);  // the slot was closed without a job
    off += got;
  }
  return buf;
}

function headerLength() {
  let digits = '';
  for (let c = ''; c !== '\n'; c = read(1).toString('latin1')) digits += c;
  return Number(digits);
}

fs.writeSync(1, '\0ignite-ready\n');
const job = JSON.parse(read(headerLength()).toString('utf8'));
// The slot started with the job's environment minus its input variables; what the runtime
// set for itself as it started stays, as it would in a cold start.
for (const kv of job.env) {
  const eq = kv.indexOf('=');
  if (!(kv.slice(0, eq) in process.env)) process.env[kv.slice(0, eq)] = kv.slice(eq + 1);
}
process.chdir(job.cwd);
process.argv = [process.argv[0], ...job.argv];
// Bun: import.meta.main and Bun.main name the entry, as in a cold `bun <entry>`.
if (typeof Bun !== 'undefined') Bun.main = job.argv[0];
require('module').runMain(job.argv[0]);
