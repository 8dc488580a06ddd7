// The server's state: the runner configured from the options, the handler pools, the catalog.
#include <algorithm>

#include <spdlog/spdlog.h>

#include "server/server_state.hpp"

namespace ignite::server {
namespace {

// Handler threads that may wait for an execution slot at once (running + queued requests) are
// capped, so that --max-queue 100000 does not mean 100000 threads; beyond, handlers wait their
// turn in the pool's own queue.
constexpr std::size_t kMaxWaitingHandlers = 1024;
// For the blocking routes that do not execute (preflight, listings).
constexpr std::size_t kSpareHandlers = 16;

runner::RunnerOptions runner_part(const ServerOptions& o) {
  runner::RunnerOptions r;
  r.max_running = o.max_running;
  r.max_queued = o.max_queued;
  r.queue_timeout = o.queue_timeout;
  r.reject_delay = o.reject_delay;
  r.limits = {o.max_memory_mb, o.max_timeout_ms, o.default_memory_mb, o.default_timeout_ms};
  r.job_bounds = {o.max_jobs_queued, o.max_jobs_kept, o.max_job_result_bytes, o.max_jobs_bytes};
  r.job_workers = o.max_running;  // as many as execution slots
  r.remote_jobs = o.remote_jobs;
  return r;
}

}  // namespace

ServerState::ServerState(ServerOptions opts, engine::Engine& eng)
    : Runner(runner_part(opts), eng),
      options(std::move(opts)),
      keys(options.api_keys),
      rate_limiter(options.rate_limit, options.rate_burst),
      services(options.services_dir),
      handler_pool(std::make_unique<FixedPool>(
          std::min<std::size_t>(options.max_running + options.max_queued, kMaxWaitingHandlers) +
          kSpareHandlers)),
      run_pool(std::make_unique<FixedPool>(options.max_running)) {}

std::vector<runtime::Installed> ServerState::installed_runtimes() {
  std::lock_guard lock(catalog_mu_);
  const auto now = std::chrono::steady_clock::now();
  if (catalog_read_ == std::chrono::steady_clock::time_point{} || now - catalog_read_ > std::chrono::seconds(5)) {
    catalog_cache_ = engine.catalog().list();
    catalog_read_ = now;
  }
  return catalog_cache_;
}

void send_json(Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_body(body.dump() + "\n", "application/json");
}

void send_error(Response& res, const HttpError& error) {
  if (error.retry_after_s > 0) res.set_header("Retry-After", std::to_string(error.retry_after_s));
  res.delay = error.delay;
  send_json(res, error.status, error_body(error));
}

bool wants_stream(const Request& req) {
  const std::string v = req.query_param("stream");
  return v == "1" || v == "true";
}

}  // namespace ignite::server
