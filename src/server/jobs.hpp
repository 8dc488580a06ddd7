// Async jobs (POST /v1/jobs): an in-process queue with idempotency keys, worked by a fixed pool
// of threads, results kept for GET /v1/jobs/:id. Bounded: pending jobs and kept results.
#pragma once
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/job.hpp"

namespace ignite::server {

class JobQueue {
 public:
  // Runs one job: the result document, or (failed = true) the error body.
  using Executor = std::function<nlohmann::json(const engine::AdhocRequest&, std::stop_token, bool& failed)>;

  JobQueue(Executor executor, std::size_t workers, std::size_t max_queued, std::size_t max_kept);
  ~JobQueue();  // cancels running jobs and joins the workers
  JobQueue(const JobQueue&) = delete;
  JobQueue& operator=(const JobQueue&) = delete;

  struct Submitted {
    bool accepted = false;  // false: the queue is full (or shut down)
    std::string id;
    std::string status;     // of the job now (an idempotent resubmission may be further along)
  };
  // `idempotency_key` (scoped by the caller, e.g. "<client>/<key>") returns the earlier job
  // instead of a new one while that job is remembered.
  Submitted submit(engine::AdhocRequest request, const std::string& idempotency_key);

  // {"id","status","result"|"error"} or nullopt for an unknown (or forgotten) id.
  std::optional<nlohmann::json> get(const std::string& id) const;

  std::size_t pending() const;
  // Stops taking jobs; queued ones fail with "shutting down"; running ones go on.
  void close();
  // close(), and running ones are cancelled; joins the workers.
  void shutdown();

 private:
  struct Job {
    std::string id;
    std::string idempotency_key;
    engine::AdhocRequest request;
    std::string status = "queued";  // queued | running | done | failed
    nlohmann::json result;          // result document (done) or error body (failed)
  };
  void work(std::stop_token stop);
  void forget_old_locked();

  Executor executor_;
  const std::size_t max_queued_;
  const std::size_t max_kept_;
  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  std::map<std::string, Job> jobs_;
  std::map<std::string, std::string> by_key_;
  std::deque<std::string> queue_;     // ids waiting for a worker
  std::deque<std::string> finished_;  // ids in the order they finished, for forgetting
  bool closed_ = false;
  std::size_t started_ = 0;  // workers running (see http_pool.hpp: no thread may be starting)
  std::vector<std::jthread> workers_;  // last: joined first on destruction
};

// 32 hex digits from the OS's CSPRNG: job ids are capabilities (whoever knows one can read it).
std::string random_id();

}  // namespace ignite::server
