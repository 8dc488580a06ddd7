// Runner: what every transport does with a run, without the transport. Admission (a bounded
// number of running sandboxes and a bounded wait queue), async jobs with idempotency keys,
// cancellation (the caller's and the whole process's) and metrics. The HTTP server and the NATS
// worker are thin adapters over one Runner each: they decode a request (api/requests.hpp),
// hand the engine call to run(), and encode what comes back.
#pragma once
#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <stop_token>

#include "api/request_error.hpp"
#include "api/requests.hpp"
#include "engine/engine.hpp"
#include "runner/admission.hpp"
#include "runner/jobs.hpp"
#include "runner/metrics.hpp"
#include "runner/recent_runs.hpp"

namespace ignite::runner {

struct RunnerOptions {
  std::size_t max_running = 2;     // sandboxes at once
  std::size_t max_queued = 8;      // runs waiting for one; beyond: queue_full
  std::chrono::milliseconds queue_timeout{30000};  // a queued run gives up after this
  std::chrono::milliseconds reject_delay{250};     // see ServerOptions::reject_delay
  api::AdhocLimits limits;
  JobBounds job_bounds;
  std::size_t job_workers = 0;     // async job workers; 0: no job queue
  // Set: async jobs go there (a NATS stream) instead of to a JobQueue in this process.
  std::shared_ptr<JobBackend> remote_jobs;
};

// A run as a transport hands it over: the engine call, given a stop token and an output sink.
using Work = std::function<Result<engine::JobReport>(std::stop_token, const sandbox::OutputSink&)>;

class Runner {
 public:
  Runner(RunnerOptions options, engine::Engine& engine);
  virtual ~Runner() = default;
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  // Takes an execution slot: queue_full / queue_timeout (429, with a retry hint) or draining (503).
  // `wait` replaces the queue timeout (a NATS job, whose ack deadline is extended while it
  // waits, waits for as long as it takes).
  api::Decoded<Admission::Slot> admit(bool bounded = true, std::optional<std::chrono::milliseconds> wait = {});
  // Runs admitted work, cancelled by `stop` or the runner's stop; records metrics.
  api::Decoded<engine::JobReport> run_admitted(Admission::Slot slot, const Work& work,
                                               std::stop_token stop, const sandbox::OutputSink& sink);
  // admit + run_admitted.
  api::Decoded<engine::JobReport> run(const Work& work, const sandbox::OutputSink& sink = {},
                                      std::stop_token stop = {}, bool bounded = true,
                                      std::optional<std::chrono::milliseconds> wait = {});

  // Stops admitting (every acquire fails with draining from now on).
  void drain();
  bool draining() const { return draining_.load(); }
  // Cancels every run in flight (the grace period is over).
  void cancel_all() { stop_.request_stop(); }
  std::stop_token stop_token() const { return stop_.get_token(); }

  Gauges gauges() const;

  engine::Engine& engine;
  const RunnerOptions runner_options;
  const api::AdhocLimits limits;
  Admission admission;
  Metrics metrics;
  RecentRuns recent_runs;  // the dashboard's table

 private:
  std::stop_source stop_;
  std::atomic<bool> draining_{false};
  const std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();

 public:
  std::shared_ptr<JobBackend> jobs;  // last: a local queue's workers use everything above
};

}  // namespace ignite::runner
