// Running work for the routes: admission, cancellation, metrics.
#include <algorithm>

#include <spdlog/spdlog.h>

#include "api/result_json.hpp"
#include "server/server_state.hpp"

namespace ignite::server {
namespace {

// Handler threads that may wait for an execution slot at once (running + queued requests) are
// capped, so that --max-queue 100000 does not mean 100000 threads; beyond, handlers wait their
// turn in the pool's own queue.
constexpr std::size_t kMaxWaitingHandlers = 1024;
// For the blocking routes that do not execute (preflight, listings).
constexpr std::size_t kSpareHandlers = 16;

}  // namespace

ServerState::ServerState(ServerOptions opts, engine::Engine& eng)
    : options(std::move(opts)),
      engine(eng),
      limits{options.max_memory_mb, options.max_timeout_ms, options.default_memory_mb,
             options.default_timeout_ms},
      keys(options.api_keys),
      admission(options.max_running, options.max_queued),
      rate_limiter(options.rate_limit, options.rate_burst),
      services(options.services_dir),
      handler_pool(std::make_unique<FixedPool>(
          std::min<std::size_t>(options.max_running + options.max_queued, kMaxWaitingHandlers) +
          kSpareHandlers)),
      run_pool(std::make_unique<FixedPool>(options.max_running)) {
  // Async jobs: as many workers as execution slots, each waiting for a slot like any request
  // (unbounded by max_queued: the job queue has its own bound).
  jobs = std::make_unique<JobQueue>(
      [this](const engine::AdhocRequest& request, std::stop_token job_stop, bool& failed) {
        auto slot = admit(/*bounded=*/false);
        Decoded<engine::JobReport> report =
            std::holds_alternative<HttpError>(slot)
                ? Decoded<engine::JobReport>(std::get<HttpError>(slot))
                : run_admitted(std::move(std::get<Admission::Slot>(slot)),
                               [&](std::stop_token st, const sandbox::OutputSink& sink) {
                                 return engine.execute_adhoc(request, st, sink);
                               },
                               job_stop, {});
        if (auto* e = std::get_if<HttpError>(&report)) {
          failed = true;
          return error_body(*e);
        }
        return api::result_document(std::get<engine::JobReport>(report));
      },
      options.max_running,
      JobBounds{options.max_jobs_queued, options.max_jobs_kept, options.max_job_result_bytes,
                options.max_jobs_bytes});
}

Decoded<Admission::Slot> ServerState::admit(bool bounded) {
  Admission::Slot slot;
  const auto verdict = admission.acquire(slot, options.queue_timeout, stop.get_token(), bounded);
  switch (verdict) {
    case Admission::Verdict::admitted:
      return slot;
    case Admission::Verdict::queue_full:
      metrics.record_rejection("queue_full");
      // A slot frees up when a run ends; runs are short compared to a second, mostly.
      return HttpError{429, "queue_full", "all execution slots are busy and the queue is full", 1,
                       draining ? std::chrono::milliseconds(0) : options.reject_delay};
    case Admission::Verdict::timed_out:
      metrics.record_rejection("queue_timeout");
      return HttpError{429, "queue_timeout", "waited too long for an execution slot", 1};
    case Admission::Verdict::draining:
    case Admission::Verdict::cancelled:
      break;
  }
  metrics.record_rejection("draining");
  return HttpError{503, "draining", "the server is shutting down", 5};
}

Decoded<engine::JobReport> ServerState::run_admitted(Admission::Slot slot, const Work& work,
                                                     std::stop_token stop_request,
                                                     const sandbox::OutputSink& sink) {
  // Either the caller (a streaming client left, a job was cancelled) or the server (grace
  // expired) can cancel; the engine takes one token, so both feed one source.
  std::stop_source run_stop;
  std::stop_callback by_caller(stop_request, [&] { run_stop.request_stop(); });
  std::stop_callback by_server(stop.get_token(), [&] { run_stop.request_stop(); });
  auto report = work(run_stop.get_token(), sink);
  slot.release();
  if (!report) {
    const HttpError mapped = from_engine_error(report.error());
    if (mapped.status >= 500) spdlog::error("run failed: {}", report.error().message);
    metrics.record_error(mapped.code);
    return mapped;
  }
  const auto& r = report->result;
  const std::string runtime = report->runtime.substr(0, report->runtime.find('@'));
  metrics.record_execution(runtime, std::string(status_name(r.outcome, r.exit_code)),
                           static_cast<double>(r.usage.wall.count()) / 1e6, r.usage.peak_memory_bytes);
  return std::move(*report);
}

Decoded<engine::JobReport> ServerState::run(const Work& work, const sandbox::OutputSink& sink) {
  auto slot = admit();
  if (auto* e = std::get_if<HttpError>(&slot)) return *e;
  return run_admitted(std::move(std::get<Admission::Slot>(slot)), work, {}, sink);
}

std::vector<runtime::Installed> ServerState::installed_runtimes() {
  std::lock_guard lock(catalog_mu_);
  const auto now = std::chrono::steady_clock::now();
  if (catalog_read_ == std::chrono::steady_clock::time_point{} || now - catalog_read_ > std::chrono::seconds(5)) {
    catalog_cache_ = engine.catalog().list();
    catalog_read_ = now;
  }
  return catalog_cache_;
}

Gauges ServerState::gauges() const {
  Gauges g;
  g.in_flight = admission.running();
  g.queue_depth = admission.queued();
  g.jobs_queued = jobs ? jobs->pending() : 0;
  g.capacity = admission.capacity();
  g.draining = draining.load();
  g.uptime_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return g;
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
