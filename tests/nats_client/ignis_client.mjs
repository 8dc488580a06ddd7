// An Ignis client written against the official NATS.js client (npm `nats`), not against our
// code: it speaks only the wire protocol of CONTRACT §6, as an existing Ignis user would.
//
//   node ignis_client.mjs --servers nats://127.0.0.1:4222[,nats://…] --count N
//        [--language python] [--code '…'] [--variant standard] [--id-prefix P]
//        [--timeout-ms 30000] [--linger-ms 0] [--results-kv BUCKET]
//
// For each job (ids P-0 … P-(N-1)) it subscribes to job_status.<id> BEFORE publishing, then
// publishes {"id","language","code","variant"} with a plain core-NATS publish on `jobs` (no
// JetStream API: that is what Ignis clients do). It collects every status update per id until
// each has a final one (`done` or `failed`), waits --linger-ms more to catch duplicate finals,
// and prints ONE JSON document on stdout:
//
//   {"jobs":[{"id","statuses":["received","running","done"],"final":{…},"finals":1,
//             "latency_ms":12.3}], "missing":[ids without a final], "elapsed_ms":…}
//
// `final` is the first final update; `finals` counts final updates (more than 1 = the job's
// final status was published twice); `latency_ms` is publish → first final.
// --results-kv BUCKET: status updates are core NATS and are lost while the client reconnects
// (a cluster node dies); every second it also looks up ids still without a final in that
// JetStream KV bucket (key = id, value = the final status document, CONTRACT §6 "final
// statuses are also stored"), and takes a stored final with "source":"kv".
//
// Exit status: 0 when every job got a final status in time, 1 when some did not (listed in
// "missing"), 2 on bad usage or when no server could be reached ({"error": …}).
import { connect, JSONCodec, StringCodec } from "nats";

function usage(message) {
  process.stdout.write(JSON.stringify({ error: message }) + "\n");
  process.exit(2);
}

function parseArgs(argv) {
  const opts = {
    servers: "",
    count: 1,
    language: "python",
    code: 'print("hello from ignis")',
    variant: "standard",
    idPrefix: `ignis-${Math.random().toString(16).slice(2, 10)}`,
    timeoutMs: 30000,
    lingerMs: 0,
    resultsKv: "",
  };
  const names = {
    "--servers": "servers", "--count": "count", "--language": "language", "--code": "code",
    "--variant": "variant", "--id-prefix": "idPrefix", "--timeout-ms": "timeoutMs",
    "--linger-ms": "lingerMs", "--results-kv": "resultsKv",
  };
  for (let i = 2; i < argv.length; i += 2) {
    const key = names[argv[i]];
    if (!key) usage(`unknown option ${argv[i]}`);
    if (i + 1 >= argv.length) usage(`${argv[i]} needs a value`);
    opts[key] = argv[i + 1];
  }
  for (const key of ["count", "timeoutMs", "lingerMs"]) {
    const n = Number(opts[key]);
    if (!Number.isInteger(n) || n < 0) usage(`--${key} must be a whole number, got ${opts[key]}`);
    opts[key] = n;
  }
  if (!opts.servers) usage("--servers URL[,URL…] is required");
  return opts;
}

const FINAL = new Set(["done", "failed"]);

async function main() {
  const opts = parseArgs(process.argv);
  const started = performance.now();
  let nc;
  try {
    nc = await connect({
      servers: opts.servers.split(",").filter(Boolean),
      name: "ignis-client",
      maxReconnectAttempts: -1,  // ride out a server restart or a cluster node's death
      reconnectTimeWait: 250,
      timeout: 5000,
    });
  } catch (err) {
    usage(`cannot connect to ${opts.servers}: ${err.message}`);
  }
  const jc = JSONCodec();
  const sc = StringCodec();

  const jobs = [];
  let pending = opts.count;
  let allFinal;
  const allFinalPromise = new Promise((resolve) => { allFinal = resolve; });
  const settle = (job, doc, source) => {
    if (!source) job.finals += 1;  // a stored final is the same final, not another publish
    if (job.final !== null) return;
    job.final = source ? { ...doc, source } : doc;
    job.latency_ms = Math.round((performance.now() - job.publishedAt) * 10) / 10;
    if (--pending === 0) allFinal();
  };

  for (let i = 0; i < opts.count; i++) {
    const job = { id: `${opts.idPrefix}-${i}`, statuses: [], final: null, finals: 0, latency_ms: null, publishedAt: 0 };
    jobs.push(job);
    nc.subscribe(`job_status.${job.id}`, {
      callback: (err, msg) => {
        if (err) return;
        let doc;
        try {
          doc = jc.decode(msg.data);
        } catch {
          job.statuses.push(`unparsable: ${sc.decode(msg.data).slice(0, 200)}`);
          return;
        }
        job.statuses.push(doc && typeof doc.status === "string" ? doc.status : `no status: ${JSON.stringify(doc).slice(0, 200)}`);
        if (doc && FINAL.has(doc.status)) settle(job, doc);
      },
    });
  }
  await nc.flush();  // the server has every subscription before the first job goes out

  for (const job of jobs) {
    job.publishedAt = performance.now();
    nc.publish("jobs", jc.encode({ id: job.id, language: opts.language, code: opts.code, variant: opts.variant }));
  }
  await nc.flush();
  if (opts.count === 0) allFinal();

  let kvTimer = null;
  if (opts.resultsKv) {
    let kv = null;
    const poll = async () => {
      try {
        kv ??= await nc.jetstream().views.kv(opts.resultsKv, { bindOnly: true });
        for (const job of jobs) {
          if (job.final !== null) continue;
          const entry = await kv.get(job.id);
          if (entry && entry.operation === "PUT" && entry.value.length > 0) {
            const doc = jc.decode(entry.value);
            if (doc && FINAL.has(doc.status)) settle(job, doc, "kv");
          }
        }
      } catch {
        // The bucket may not exist yet, or the server is away: try again on the next tick.
      }
    };
    kvTimer = setInterval(poll, 1000);
  }

  let timer;
  const timedOut = new Promise((resolve) => { timer = setTimeout(resolve, opts.timeoutMs); });
  await Promise.race([allFinalPromise, timedOut]);
  if (pending === 0 && opts.lingerMs > 0) await new Promise((r) => setTimeout(r, opts.lingerMs));
  clearTimeout(timer);
  if (kvTimer) clearInterval(kvTimer);

  const missing = jobs.filter((j) => j.final === null).map((j) => j.id);
  const report = {
    jobs: jobs.map(({ publishedAt, ...j }) => j),
    missing,
    elapsed_ms: Math.round(performance.now() - started),
  };
  await nc.close();
  // Exit only once the report is written: to a pipe, process.exit() would cut it at 64 KiB.
  process.stdout.write(JSON.stringify(report) + "\n", () => process.exit(missing.length === 0 ? 0 : 1));
}

main().catch((err) => usage(`unexpected: ${err && err.stack ? err.stack : err}`));
