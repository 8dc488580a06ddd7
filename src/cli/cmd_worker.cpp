// `ignite worker`: runs jobs from NATS JetStream (CONTRACT §6). Builds the engine and a runner,
// the worker over them, an optional metrics port, and turns SIGTERM into a drain.
#include <cstdio>
#include <memory>
#include <thread>

#include <spdlog/spdlog.h>

#include "cli/cancel_on_signal.hpp"
#include "cli/common.hpp"
#include "cli/context.hpp"
#include "cli/pool_flags.hpp"
#include "queue/worker.hpp"
#include "runner/runner.hpp"
#include "runner/service_index.hpp"
#include "server/metrics_endpoint.hpp"

namespace ignite::cli {
namespace {

struct WorkerFlags {
  queue::WorkerOptions worker;
  std::string nats = "nats://127.0.0.1:4222";
  std::string services_dir;
  std::uint32_t grace_ms = 30000;
  std::uint32_t ack_wait_s = 30;
  std::uint32_t max_age_s = 24 * 3600;
  std::uint32_t results_ttl_s = 24 * 3600;
  std::uint32_t retry_delay_ms = 2000;
  std::uint32_t dead_max_mb = 256;
  std::uint32_t queue_timeout_ms = 30000;
  int metrics_port = -1;
  std::string metrics_host = "127.0.0.1";
  api::AdhocLimits limits;
  bool allow_degraded = false;
  std::string isolation;
  bool setup_only = false;
  PoolFlags pools;
};

int work(WorkerFlags f) {
  // Before anything can spawn a sandbox or a thread: see cancel_on_signal.hpp.
  auto signals = CancelOnSignal::start();
  if (!signals) return report_error(signals.error());
  auto& w = f.worker;
  w.nats.urls = queue::split_urls(f.nats);
  if (w.nats.urls.empty()) return report_error({ErrorCode::invalid_argument, "--nats: no URL given"});
  w.nats.name = "ignite-worker";
  if (w.concurrency == 0) w.concurrency = std::max(1u, std::thread::hardware_concurrency());
  w.grace = std::chrono::milliseconds(f.grace_ms);
  w.retry_delay = std::chrono::milliseconds(f.retry_delay_ms);
  w.stream.ack_wait = std::chrono::seconds(f.ack_wait_s);
  w.stream.max_age = std::chrono::seconds(f.max_age_s);
  w.stream.results_ttl = std::chrono::seconds(f.results_ttl_s);
  w.stream.dead_max_bytes = std::int64_t{f.dead_max_mb} << 20;

  if (f.setup_only) {
    // Only NATS: the stream, consumer and bucket, so jobs published from now on wait for a worker.
    auto nc = queue::connect(w.nats, [&] { return (*signals)->signal() != 0; });
    if (!nc) return report_error(nc.error());
    auto js = queue::jetstream(nc->get());
    if (!js) return report_error(js.error());
    auto made = queue::ensure_jetstream_objects(js->get(), w.stream);
    if (!made) return report_error(made.error());
    std::printf("stream %s, consumer %s and bucket %s are ready\n", w.stream.stream.c_str(),
                w.stream.consumer.c_str(), w.stream.results_bucket.c_str());
    return 0;
  }
  auto made = make_transport_host(f.services_dir, f.pools, f.limits, f.allow_degraded, f.isolation);
  if (!made) return report_error(made.error());

  runner::RunnerOptions ro;
  ro.max_running = w.concurrency;
  ro.max_queued = 4 * w.concurrency;  // service requests waiting for a slot
  ro.limits = f.limits;
  ro.queue_timeout = std::chrono::milliseconds(f.queue_timeout_ms);
  runner::Runner runner(ro, *made->host.engine);
  queue::Worker worker(w, runner, made->services.get());
  if (auto started = worker.start((*signals)->token()); !started) {
    if ((*signals)->signal() != 0) return 0;  // stopped while waiting for NATS
    return report_error(started.error());
  }
  std::unique_ptr<server::MetricsEndpoint> metrics;
  if (f.metrics_port >= 0) {
    metrics = std::make_unique<server::MetricsEndpoint>([&] { return worker.render_metrics(); });
    auto port = metrics->start(f.metrics_host, f.metrics_port);
    if (!port) return report_error(std::move(port).error().with_context("--metrics-port"));
    std::printf("metrics on http://%s:%d/metrics\n", f.metrics_host.c_str(), *port);
  }
  // The line scripts and tests wait for: jobs are being fetched from now on.
  std::printf("worker ready: stream %s, consumer %s, %zu slots\n", w.stream.stream.c_str(),
              w.stream.consumer.c_str(), w.concurrency);
  std::fflush(stdout);
  worker.run((*signals)->token());
  return 0;
}

}  // namespace

void register_worker(CLI::App& app, Context& ctx) {
  auto f = std::make_shared<WorkerFlags>();
  auto& w = f->worker;
  auto* cmd = app.add_subcommand("worker", "Run jobs from NATS JetStream (Ignis protocol, durable)");
  cmd->add_option("--nats", f->nats, "NATS server URL(s), comma-separated (cluster nodes)")->capture_default_str();
  cmd->add_option("--concurrency", w.concurrency, "Jobs run at once (default: cores)");
  cmd->add_option("--services", f->services_dir, "Directory of service directories (ignite.execute.<service>)");
  cmd->add_option("--creds", w.nats.creds, "NATS credentials file (JWT and NKey)");
  cmd->add_flag("--tls", w.nats.tls, "Require TLS to NATS");
  cmd->add_option("--tls-ca", w.nats.tls_ca, "CA certificate(s) to verify the NATS server with");
  cmd->add_option("--tls-cert", w.nats.tls_cert, "Client certificate (with --tls-key)");
  cmd->add_option("--tls-key", w.nats.tls_key, "Client key");
  cmd->add_option("--stream", w.stream.stream, "JetStream stream capturing the jobs subject")->capture_default_str();
  cmd->add_option("--subject", w.stream.subject, "Subject jobs are published on")->capture_default_str();
  cmd->add_option("--replicas", w.stream.replicas, "Stream and results replicas (3 on a 3-node cluster)")
      ->capture_default_str()->check(CLI::Range(1, 5));
  cmd->add_option("--max-age-s", f->max_age_s, "Seconds an unrun job stays in the stream")->capture_default_str();
  cmd->add_option("--consumer", w.stream.consumer, "Durable consumer shared by all workers")->capture_default_str();
  cmd->add_option("--ack-wait-s", f->ack_wait_s, "Seconds before an unacknowledged job is redelivered (extended while it runs)")
      ->capture_default_str()->check(CLI::Range(1, 3600));
  cmd->add_option("--max-deliver", w.stream.max_deliver, "Runs attempted per job; then failed and dead-lettered")
      ->capture_default_str()->check(CLI::Range(1, 100));
  cmd->add_option("--results-bucket", w.stream.results_bucket, "KV bucket of job statuses")->capture_default_str();
  cmd->add_option("--results-ttl-s", f->results_ttl_s, "Seconds a job's status is kept")->capture_default_str();
  cmd->add_option("--dead-letter-subject", w.stream.dead_subject, "Where jobs that cannot run are copied")
      ->capture_default_str();
  cmd->add_option("--dead-letter-max-mb", f->dead_max_mb, "Size bound of the dead-letter stream (the oldest go first)")
      ->capture_default_str()->check(CLI::Range(1, 1 << 20));
  cmd->add_option("--max-service-queue", w.max_service_queue, "Service requests queued or running; beyond: queue_full")
      ->capture_default_str()->check(CLI::Range(1, 100000));
  cmd->add_option("--queue-timeout-ms", f->queue_timeout_ms,
                  "How long a service request may wait for a slot (jobs wait as long as it takes)")
      ->capture_default_str();
  cmd->add_option("--retry-delay-ms", f->retry_delay_ms, "Delay before a job this worker could not run is redelivered")
      ->capture_default_str();
  cmd->add_option("--max-code-bytes", w.max_code_bytes, "Largest code (and files) of one job")->capture_default_str();
  cmd->add_option("--grace-ms", f->grace_ms, "SIGTERM: time in-flight jobs get to finish")->capture_default_str();
  cmd->add_option("--metrics-port", f->metrics_port, "Serve Prometheus /metrics on this port (0: a free one)")
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--metrics-host", f->metrics_host, "Address of the metrics port")->capture_default_str();
  cmd->add_option("--max-memory-mb", f->limits.max_memory_mb, "Ceiling for memoryMb in jobs")->capture_default_str();
  cmd->add_option("--max-timeout-ms", f->limits.max_timeout_ms, "Ceiling for timeoutMs in jobs")->capture_default_str();
  add_pool_flags(cmd, f->pools);
  add_isolation_option(cmd, f->isolation,
                       "Backend of jobs whose service names none, and of the warm pools (default: native)");
  cmd->add_flag("--allow-degraded", f->allow_degraded, "Run even if cgroup limits cannot be enforced (rlimits only)");
  cmd->add_flag("--setup-only", f->setup_only,
                "Create (or update) the stream, consumer and results bucket, then exit");
  cmd->callback([f, &ctx] { ctx.exit_code = work(*f); });
}

}  // namespace ignite::cli
