// `ignite worker`: runs Ignis-format jobs from a NATS JetStream stream (CONTRACT §6), and
// service requests from `ignite.execute.<service>`, over a transport-neutral Runner.
//
// Delivery: one durable pull consumer shared by every worker, explicit acks. A worker fetches
// only as many jobs as it has free slots, extends the ack deadline (+WPI) while a job runs,
// stores the final status (first one wins, see JobStore), publishes it and acks only then. A
// job it could not run for a reason of its own (at capacity, shutting down, NATS trouble) is
// nak'ed with a delay for any worker to take; a job delivered more than max_deliver times gets
// "failed" and a copy on the dead-letter subject. A redelivered job whose final status is stored
// (the ack was lost, or the id was published twice) is answered from the store, not run again.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <future>
#include <stop_token>
#include <string>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/result.hpp"
#include "queue/job_store.hpp"
#include "queue/nats_handle.hpp"
#include "queue/nats_setup.hpp"
#include "runner/fixed_pool.hpp"
#include "runner/runner.hpp"
#include "runner/service_index.hpp"

namespace ignite::queue {

struct WorkerOptions {
  NatsOptions nats;
  StreamOptions stream;
  std::size_t concurrency = 2;                  // jobs running at once on this worker
  std::size_t max_code_bytes = 1 << 20;         // code + files of one job; larger: failed
  std::chrono::milliseconds grace{30000};       // SIGTERM: in-flight jobs may finish this long
  std::chrono::milliseconds retry_delay{2000};  // nak delay for a job we could not run
  bool serve_services = true;                   // answer ignite.execute.<service>
  std::size_t max_service_queue = 64;           // service requests queued or running; beyond: 429
};

struct WorkerCounters {
  std::atomic<std::uint64_t> received{0};      // deliveries taken (redeliveries included)
  std::atomic<std::uint64_t> done{0};          // final "done" published
  std::atomic<std::uint64_t> failed{0};        // final "failed" published
  std::atomic<std::uint64_t> redelivered{0};   // deliveries after the first
  std::atomic<std::uint64_t> republished{0};   // answered from the store, not run again
  std::atomic<std::uint64_t> malformed{0};     // not a job (bad JSON, no id, bad fields)
  std::atomic<std::uint64_t> dead_lettered{0};
  std::atomic<std::uint64_t> requeued{0};      // nak'ed for another try
  std::atomic<std::uint64_t> service_requests{0};
  std::atomic<std::uint64_t> in_flight{0};
};

class Worker {
 public:
  Worker(WorkerOptions options, runner::Runner& runner, runner::ServiceIndex* services);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Connects (waiting for NATS while `stop` is not requested), makes sure the stream, consumer
  // and results bucket exist, and subscribes.
  Result<void> start(std::stop_token stop);
  // Fetches and runs jobs until `stop`; then stops fetching, lets in-flight jobs finish within
  // the grace period, cancels and nak's the rest, and returns.
  void run(std::stop_token stop);

  const WorkerCounters& counters() const { return counters_; }
  // Prometheus text: the runner's executions plus the worker's job counters.
  std::string render_metrics() const;

 private:
  struct Active {
    natsMsg* msg = nullptr;
    std::chrono::steady_clock::time_point last_progress;
  };
  void fetch_loop(std::stop_token stop);
  void handle(Message msg);
  void run_job(natsMsg* msg, const std::string& id, const engine::AdhocRequest& request);
  // Stores the final status (or finds the stored one), publishes it and acks.
  void finish(natsMsg* msg, const std::string& id, nlohmann::json status);
  void publish_status(const std::string& id, const nlohmann::json& status);
  std::size_t max_message_bytes() const;  // the server's max_payload, less room for headers
  void dead_letter(natsMsg* msg, const std::string& reason);
  void requeue(natsMsg* msg, std::chrono::milliseconds delay);
  void extend_deadlines(std::stop_token stop);  // the +WPI ticker
  void log_counters(const char* when) const;
  void on_service_request(Message msg, std::chrono::steady_clock::time_point queued);
  void reply(natsMsg* request, const nlohmann::json& answer);
  void stop_service_requests();
  static void service_callback(natsConnection*, natsSubscription*, natsMsg* msg, void* self);
  static void service_closed(void* self);

  const WorkerOptions options_;
  runner::Runner& runner_;
  runner::ServiceIndex* services_;
  WorkerCounters counters_;
  std::string name_;  // host:pid, in "received" messages

  Connection nc_;
  JetStream js_;
  KeyValue kv_;
  std::unique_ptr<JobStore> store_;
  Subscription jobs_sub_;
  Subscription service_sub_;
  // Set by cnats once service_sub_ is closed and its last callback has returned: only then may
  // the subscription (and the pool its callback hands requests to) go away.
  std::promise<void> service_closed_;
  std::future<void> service_done_;

  std::stop_source job_stop_;  // cancels running jobs when the grace period is over
  std::mutex mu_;
  std::condition_variable cv_;  // a slot was freed
  std::size_t busy_ = 0;        // jobs handed to the pool and not finished
  std::atomic<std::size_t> services_pending_{0};  // service requests queued or running
  std::atomic<bool> draining_{false};
  std::map<std::uint64_t, Active> active_;  // by ticket, for the +WPI ticker
  std::uint64_t next_ticket_ = 0;
  std::unique_ptr<runner::FixedPool> job_pool_;
  std::unique_ptr<runner::FixedPool> service_pool_;
  std::jthread ticker_;
};

}  // namespace ignite::queue
