// A stand-in for `ignite worker`, only to test ignis_client.mjs before (and apart from) the real
// worker: it answers every job on `jobs` on job_status.<id> with received, running and a final
// status shaped as CONTRACT §6. Not a model of the worker: no JetStream consumer, no sandbox.
//
//   node stand_in_worker.mjs --servers URL [--kv BUCKET]
//
// Prints "ready" once subscribed. The job's code steers it, so a test can reach every path of
// the client: "fail" → failed; "ignore" → no answer at all; "twice" → done published twice;
// "kv-only" → received/running, then the final only stored in the KV bucket (needs --kv).
import { connect, JSONCodec } from "nats";

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, v, i, a) => (i % 2 === 0 ? [...pairs, [v.replace(/^--/, ""), a[i + 1]]] : pairs), []));
const nc = await connect({ servers: (args.servers || "").split(","), maxReconnectAttempts: -1, reconnectTimeWait: 250 });
const jc = JSONCodec();
const kv = args.kv ? await nc.jetstream().views.kv(args.kv) : null;

const status = (id, s, extra = {}) => ({
  id, status: s, message: "", error: "", stdout: "", stderr: "", exec_duration: 0, mem_usage: 0, ...extra,
});

nc.subscribe("jobs", {
  callback: async (err, msg) => {
    if (err) return;
    const job = jc.decode(msg.data);
    if (job.code === "ignore") return;
    const subject = `job_status.${job.id}`;
    nc.publish(subject, jc.encode(status(job.id, "received")));
    nc.publish(subject, jc.encode(status(job.id, "running")));
    const result = { outcome: job.code === "fail" ? "runtime_error" : "success", stdout: `ran ${job.language}\n` };
    const final = job.code === "fail"
      ? status(job.id, "failed", { error: "stand-in failure", result })
      : status(job.id, "done", { stdout: result.stdout, exec_duration: 3, mem_usage: 1024, result });
    if (job.code === "kv-only") {
      await kv.put(job.id, jc.encode(final));
      return;
    }
    nc.publish(subject, jc.encode(final));
    if (job.code === "twice") nc.publish(subject, jc.encode(final));
  },
});
await nc.flush();
process.stdout.write("ready\n");
