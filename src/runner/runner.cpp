#include "runner/runner.hpp"

#include <spdlog/spdlog.h>

#include "api/result_json.hpp"

namespace ignite::runner {

Runner::Runner(RunnerOptions options, engine::Engine& eng)
    : engine(eng),
      runner_options(std::move(options)),
      limits(runner_options.limits),
      admission(runner_options.max_running, runner_options.max_queued) {
  if (runner_options.remote_jobs) {
    jobs = runner_options.remote_jobs;
    return;
  }
  if (runner_options.job_workers == 0) return;
  // Async jobs: each worker waits for an execution slot like any request (unbounded by
  // max_queued: the job queue has its own bound).
  jobs = std::make_shared<JobQueue>(
      [this](const engine::AdhocRequest& request, std::stop_token job_stop, bool& failed) {
        auto report = run(
            [&](std::stop_token st, const sandbox::OutputSink& sink) {
              return engine.execute_adhoc(request, st, sink);
            },
            {}, job_stop, /*bounded=*/false);
        if (auto* e = std::get_if<api::RequestError>(&report)) {
          failed = true;
          return api::error_body(*e);
        }
        return api::result_document(std::get<engine::JobReport>(report));
      },
      runner_options.job_workers, runner_options.job_bounds);
}

api::Decoded<Admission::Slot> Runner::admit(bool bounded, std::optional<std::chrono::milliseconds> wait) {
  Admission::Slot slot;
  const auto verdict =
      admission.acquire(slot, wait.value_or(runner_options.queue_timeout), stop_.get_token(), bounded);
  switch (verdict) {
    case Admission::Verdict::admitted:
      return slot;
    case Admission::Verdict::queue_full:
      metrics.record_rejection("queue_full");
      // A slot frees up when a run ends; runs are short compared to a second, mostly.
      return api::RequestError{429, "queue_full", "all execution slots are busy and the queue is full", 1,
                               draining() ? std::chrono::milliseconds(0) : runner_options.reject_delay};
    case Admission::Verdict::timed_out:
      metrics.record_rejection("queue_timeout");
      return api::RequestError{429, "queue_timeout", "waited too long for an execution slot", 1};
    case Admission::Verdict::draining:
    case Admission::Verdict::cancelled:
      break;
  }
  metrics.record_rejection("draining");
  return api::RequestError{503, "draining", "the server is shutting down", 5};
}

api::Decoded<engine::JobReport> Runner::run_admitted(Admission::Slot slot, const Work& work,
                                                     std::stop_token stop_request,
                                                     const sandbox::OutputSink& sink) {
  // Either the caller (a streaming client left, a job was cancelled) or the process (grace
  // expired) can cancel; the engine takes one token, so both feed one source.
  std::stop_source run_stop;
  std::stop_callback by_caller(stop_request, [&] { run_stop.request_stop(); });
  std::stop_callback by_process(stop_.get_token(), [&] { run_stop.request_stop(); });
  auto report = work(run_stop.get_token(), sink);
  slot.release();
  if (!report) {
    const api::RequestError mapped = api::from_engine_error(report.error());
    if (mapped.status >= 500) spdlog::error("run failed: {}", report.error().message);
    metrics.record_error(mapped.code);
    return mapped;
  }
  const auto& r = report->result;
  const std::string runtime = report->runtime.substr(0, report->runtime.find('@'));
  metrics.record_execution(runtime, std::string(status_name(r.outcome, r.exit_code)),
                           static_cast<double>(r.usage.wall.count()) / 1e6, r.usage.peak_memory_bytes);
  recent_runs.record(*report);
  return std::move(*report);
}

api::Decoded<engine::JobReport> Runner::run(const Work& work, const sandbox::OutputSink& sink,
                                            std::stop_token stop, bool bounded,
                                            std::optional<std::chrono::milliseconds> wait) {
  auto slot = admit(bounded, wait);
  if (auto* e = std::get_if<api::RequestError>(&slot)) return *e;
  return run_admitted(std::move(std::get<Admission::Slot>(slot)), work, stop, sink);
}

void Runner::drain() {
  draining_ = true;
  if (jobs) jobs->close();
  admission.drain();
}

Gauges Runner::gauges() const {
  Gauges g;
  g.in_flight = admission.running();
  g.queue_depth = admission.queued();
  g.jobs_queued = jobs ? jobs->pending() : 0;
  g.capacity = admission.capacity();
  g.draining = draining();
  g.uptime_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  return g;
}

}  // namespace ignite::runner
