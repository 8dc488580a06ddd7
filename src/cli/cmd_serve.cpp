// `ignite serve`: the HTTP API (CONTRACT §5). Builds the engine, the server, and turns SIGTERM
// into a graceful drain.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <future>
#include <memory>
#include <thread>

#include <spdlog/spdlog.h>

#include "cli/common.hpp"
#include "cli/context.hpp"
#include "cli/pool_flags.hpp"
#include "queue/nats_jobs.hpp"
#include "server/auth.hpp"
#include "server/server.hpp"
#include "runner/service_index.hpp"

namespace ignite::cli {
namespace {

struct ServeOptions {
  server::ServerOptions server;
  std::vector<std::string> api_keys;
  std::string nats;
  std::string nats_creds;
  int nats_replicas = 1;
  std::uint32_t grace_ms = 30000;
  std::uint32_t queue_timeout_ms = 30000;
  std::uint32_t read_timeout_s = 10;
  std::uint32_t header_timeout_s = 10;
  std::uint32_t keep_alive_timeout_s = 5;
  std::uint32_t reject_delay_ms = 250;
  bool allow_degraded = false;
  std::string isolation;
  std::vector<std::string> install_allow;
  PoolFlags pools;
};

// Blocks SIGTERM/SIGINT in this thread and every thread started after it, so that only the
// watcher (sigtimedwait) receives them: no async-signal-safety concerns in the server.
sigset_t block_shutdown_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

// The keys in IGNITE_API_KEY, which is then gone from our environment: no ${VAR} expansion,
// no process we start and no later getenv can see it. Security: the value is also overwritten
// in place, since /proc/<pid>/environ shows the original block, not the current environ.
// Runs before any thread exists: unsetenv is not thread-safe.
std::vector<std::string> take_secret_keys() {
  std::vector<std::string> keys;
  char* env = std::getenv("IGNITE_API_KEY");  // NOLINT(concurrency-mt-unsafe): single-threaded
  if (env == nullptr) return keys;
  if (*env != '\0') keys = server::split_keys(env);
  ::explicit_bzero(env, std::strlen(env));
  ::unsetenv("IGNITE_API_KEY");  // NOLINT(concurrency-mt-unsafe): single-threaded
  return keys;
}

int serve(ServeOptions o) {
  for (auto& k : o.api_keys) o.server.api_keys.push_back(k);
  for (auto& k : take_secret_keys()) o.server.api_keys.push_back(k);
  o.server.queue_timeout = std::chrono::milliseconds(o.queue_timeout_ms);
  o.server.read_timeout = std::chrono::seconds(o.read_timeout_s);
  o.server.header_timeout = std::chrono::seconds(o.header_timeout_s);
  o.server.keep_alive_timeout = std::chrono::seconds(o.keep_alive_timeout_s);
  o.server.reject_delay = std::chrono::milliseconds(o.reject_delay_ms);
  o.server.grace = std::chrono::milliseconds(o.grace_ms);

  // A name declared by two service directories is the operator's to fix before serving; what
  // breaks later (an edit while running) is reported per request instead (409, /services).
  if (!o.server.services_dir.empty()) {
    if (auto checked = check_services(runner::ServiceIndex(o.server.services_dir), o.server.services_dir.string()); !checked)
      return report_error(checked.error());
  }
  const sigset_t signals = block_shutdown_signals();
  // After the signals are blocked and the keys taken: the NATS client starts threads.
  if (!o.nats.empty()) {
    // Jobs go to the NATS stream the workers consume; their statuses come from its bucket.
    queue::NatsOptions nats;
    nats.urls = queue::split_urls(o.nats);
    nats.name = "ignite-serve";
    nats.creds = o.nats_creds;
    queue::StreamOptions stream;
    stream.replicas = o.nats_replicas;
    auto jobs = std::make_shared<queue::NatsJobs>(std::move(nats), std::move(stream));
    if (auto started = jobs->start(std::chrono::seconds(30)); !started)
      return report_error(std::move(started).error().with_context("--nats " + o.nats));
    o.server.remote_jobs = std::move(jobs);
  }
  // The ceilings bound service.yaml limits too, not only ad-hoc requests (and build steps,
  // which never get more than their run).
  HostOptions host_options;
  host_options.allow_degraded = o.allow_degraded;
  if (!o.isolation.empty()) host_options.isolation = o.isolation;
  host_options.max_memory_mb = o.server.max_memory_mb;
  host_options.max_timeout_ms = o.server.max_timeout_ms;
  host_options.install_allow = o.install_allow;
  auto host = make_pooled_engine(host_options, o.pools, o.server.default_memory_mb, o.server.default_timeout_ms);
  if (!host) return report_error(host.error());
  engine::Engine& engine = *host->engine;
  server::Server server(o.server, engine);
  auto port = server.bind();
  if (!port) return report_error(port.error());
  if (o.server.api_keys.empty() && o.server.host != "127.0.0.1" && o.server.host != "localhost" &&
      o.server.host != "::1")
    spdlog::warn("listening on {} without an API key: anyone who can reach it can run code", o.server.host);
  // The one line on stdout: scripts and tests read the port from it (with --port 0).
  std::printf("listening on http://%s:%d\n", o.server.host.c_str(), *port);
  std::fflush(stdout);

  // The watcher must be running before any sandbox is spawned (see src/runner/fixed_pool.hpp).
  std::promise<void> watching;
  std::jthread watcher([&](std::stop_token stop) {
    watching.set_value();
    const timespec tick{0, 200'000'000};
    while (!stop.stop_requested()) {
      const int sig = sigtimedwait(&signals, nullptr, &tick);
      if (sig == SIGTERM || sig == SIGINT) {
        spdlog::info("{}: draining (grace {} ms)", sig == SIGTERM ? "SIGTERM" : "SIGINT", o.grace_ms);
        server.drain(o.server.grace);
        return;
      }
    }
  });
  watching.get_future().wait();
  server.serve();
  watcher.request_stop();
  watcher.join();
  spdlog::info("stopped");
  return 0;
}

}  // namespace

void register_serve(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<ServeOptions>();
  auto& s = o->server;
  auto* cmd = app.add_subcommand("serve", "Serve the HTTP API");
  cmd->add_option("--host", s.host, "Address to listen on")->capture_default_str();
  cmd->add_option("--port", s.port, "TCP port; 0 picks a free one (printed)")->capture_default_str()
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--services", s.services_dir, "Directory of service directories");
  cmd->add_option("--api-key", o->api_keys,
                  "Accepted API key (repeatable; also IGNITE_API_KEY, comma-separated)");
  cmd->add_option("--nats", o->nats,
                  "NATS URL(s), comma-separated: /v1/jobs goes to the JetStream stream `ignite worker`s consume");
  cmd->add_option("--nats-creds", o->nats_creds, "NATS credentials file (with --nats)");
  cmd->add_option("--nats-replicas", o->nats_replicas, "Replicas of the stream and bucket if --nats creates them")
      ->capture_default_str()->check(CLI::Range(1, 5));
  cmd->add_option("--max-concurrent", s.max_running, "Concurrent executions (default: cores)");
  cmd->add_option("--max-queue", s.max_queued, "Requests waiting for a slot (default: 4 x concurrent)");
  cmd->add_option("--queue-timeout-ms", o->queue_timeout_ms, "How long a request may wait for a slot")
      ->capture_default_str();
  cmd->add_option("--reject-delay-ms", o->reject_delay_ms,
                  "Pause before a 'queue full' 429 (slows clients that ignore Retry-After)")
      ->capture_default_str();
  cmd->add_option("--body-limit", s.body_limit, "Maximum request body in bytes (chunked bodies too)")->capture_default_str();
  cmd->add_option("--read-timeout", o->read_timeout_s, "Seconds each read of a request body may take")
      ->capture_default_str()->check(CLI::Range(1, 3600));
  cmd->add_option("--header-timeout", o->header_timeout_s,
                  "Seconds the whole request head (line and headers) may take to arrive")
      ->capture_default_str()->check(CLI::Range(1, 3600));
  cmd->add_option("--keep-alive-timeout", o->keep_alive_timeout_s,
                  "Seconds an idle kept-alive connection stays open")
      ->capture_default_str()->check(CLI::Range(1, 3600));
  cmd->add_option("--max-connections", s.max_connections,
                  "Open connections in total (beyond, new ones wait to be accepted)")
      ->capture_default_str()->check(CLI::Range(8, 100000));
  cmd->add_option("--max-connections-per-peer", s.max_connections_per_peer,
                  "Open connections from one address (IPv6: one /64); beyond, 429 "
                  "(--trusted-proxy is exempt)")
      ->capture_default_str()->check(CLI::Range(1, 100000));
  cmd->add_option("--max-idle-connections", s.max_idle_connections,
                  "Kept-alive connections idle between requests (beyond, closed)")
      ->capture_default_str()->check(CLI::Range(0, 100000));
  cmd->add_option("--rate-limit", s.rate_limit, "Requests per second per client (0: off)")
      ->capture_default_str();
  cmd->add_option("--rate-burst", s.rate_burst, "Burst size per client (default: 2 x rate)");
  cmd->add_option("--trusted-proxy", s.trusted_proxy, "Peer address whose X-Forwarded-For is believed");
  cmd->add_option("--max-memory-mb", s.max_memory_mb, "Ceiling for memoryMb in requests")->capture_default_str();
  cmd->add_option("--max-timeout-ms", s.max_timeout_ms, "Ceiling for timeoutMs in requests")->capture_default_str();
  cmd->add_option("--install-allow-net", o->install_allow,
                  "A network (CIDR) dependency installs may reach besides public addresses, e.g. an "
                  "internal registry (repeatable)");
  cmd->add_option("--max-job-result-bytes", s.max_job_result_bytes,
                  "Largest kept result of an async job (larger: replaced by an error)")
      ->capture_default_str()->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 40));
  cmd->add_option("--max-jobs-bytes", s.max_jobs_bytes,
                  "All kept async job results together (the oldest are forgotten first)")
      ->capture_default_str()->check(CLI::Range(std::size_t{1024}, std::size_t{1} << 40));
  add_pool_flags(cmd, o->pools);
  cmd->add_option("--grace-ms", o->grace_ms, "SIGTERM: time in-flight runs get to finish")->capture_default_str();
  add_isolation_option(cmd, o->isolation,
                       "Backend of runs whose service names none, and of the warm pools (default: native)");
  cmd->add_flag("--allow-degraded", o->allow_degraded,
                "Run even if cgroup limits cannot be enforced (rlimits only)");
  cmd->callback([o, &ctx] { ctx.exit_code = serve(*o); });
}

}  // namespace ignite::cli
