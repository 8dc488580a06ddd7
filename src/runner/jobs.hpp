// Async jobs (POST /v1/jobs): an in-process queue with idempotency keys, worked by a fixed pool
// of threads, results kept for GET /v1/jobs/:id. Bounded: pending jobs, the number of kept
// results, each result's size and all kept results' size together.
//
// A finished job's response body is serialized once and shared: every GET of it sends the same
// buffer (Response::body is a shared_ptr), so readers that never read cannot multiply it.
#pragma once
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/job.hpp"

namespace ignite::runner {

struct JobBounds {
  std::size_t max_queued = 256;               // submitted, not yet running; beyond: refused
  std::size_t max_kept = 1000;                // finished jobs remembered
  std::size_t max_result_bytes = 32u << 20;   // one job's response body; larger ones are replaced
                                              // by an error saying so
  std::size_t max_kept_bytes = 256u << 20;    // all kept bodies together
};

// Where async jobs (POST /v1/jobs) go: this process's JobQueue, or a NATS stream that workers
// on any machine consume (queue/nats_jobs.hpp, `serve --nats`).
class JobBackend {
 public:
  virtual ~JobBackend() = default;

  struct Submitted {
    bool accepted = false;  // false: the queue is full (or shut down), or `unavailable` says why
    std::string id;
    std::string status;     // of the job now (an idempotent resubmission may be further along)
    std::string unavailable{};  // set: the queue could not be reached (503 with this message)
  };
  // `owner` (the API key's identity, "" without keys) is the only one who may read the job.
  // `idempotency_key` (scoped by the caller, e.g. "<client>/<key>") returns the earlier job
  // instead of a new one while that job is remembered.
  virtual Submitted submit(engine::AdhocRequest request, std::string owner, const std::string& idempotency_key) = 0;

  // The response body {"id","status"[,"result"|"error"]} as JSON text; nullptr for an unknown
  // or forgotten id, and for another owner's job (indistinguishable from unknown, on purpose).
  virtual std::shared_ptr<const std::string> get(const std::string& id, const std::string& owner) const = 0;

  virtual std::size_t pending() const = 0;
  // Stops taking jobs; queued ones fail with "shutting down"; running ones go on.
  virtual void close() = 0;
  // close(), and running ones are cancelled; joins the workers.
  virtual void shutdown() = 0;
};

class JobQueue final : public JobBackend {
 public:
  // Runs one job: the result document, or (failed = true) the error body.
  using Executor = std::function<nlohmann::json(const engine::AdhocRequest&, std::stop_token, bool& failed)>;

  JobQueue(Executor executor, std::size_t workers, JobBounds bounds);
  ~JobQueue() override;  // cancels running jobs and joins the workers
  JobQueue(const JobQueue&) = delete;
  JobQueue& operator=(const JobQueue&) = delete;

  Submitted submit(engine::AdhocRequest request, std::string owner, const std::string& idempotency_key) override;
  std::shared_ptr<const std::string> get(const std::string& id, const std::string& owner) const override;
  std::size_t pending() const override;
  std::size_t kept_bytes() const;  // of finished jobs' bodies
  void close() override;
  void shutdown() override;

 private:
  struct Job {
    std::string id;
    std::string owner;
    std::string idempotency_key;
    engine::AdhocRequest request;
    std::string status = "queued";  // queued | running | done | failed
    std::shared_ptr<const std::string> body;  // done | failed: the whole response body
  };
  struct Finished {
    std::shared_ptr<const std::string> body;
    bool failed = false;  // also when the result was replaced for being too large
  };
  void work(std::stop_token stop);
  // The finished body of job `id`: serialized here, once (outside the lock: it can be large).
  Finished finished_body(const std::string& id, nlohmann::json outcome, bool failed) const;
  void finish_locked(Job& job, Finished finished);
  void forget_old_locked();

  Executor executor_;
  const JobBounds bounds_;
  std::size_t kept_bytes_ = 0;
  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  std::map<std::string, Job> jobs_;
  std::map<std::string, std::string> by_key_;
  std::deque<std::string> queue_;     // ids waiting for a worker
  std::deque<std::string> finished_;  // ids in the order they finished, for forgetting
  bool closed_ = false;
  std::size_t started_ = 0;  // workers running (see runner/fixed_pool.hpp: no thread may be starting)
  std::vector<std::jthread> workers_;  // last: joined first on destruction
};

// 32 hex digits from the OS's CSPRNG: job ids are capabilities (whoever knows one can read it).
std::string random_id();

}  // namespace ignite::runner
