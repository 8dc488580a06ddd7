// NatsJobs: async jobs (POST /v1/jobs, GET /v1/jobs/:id) kept in NATS instead of this process,
// for `ignite serve --nats`: a job is published into the jobs stream (any worker runs it) and
// its status is read from the results bucket, so HTTP front ends and workers scale apart.
#pragma once
#include <memory>
#include <mutex>
#include <chrono>
#include <string>

#include "queue/job_store.hpp"
#include "queue/nats_handle.hpp"
#include "queue/nats_setup.hpp"
#include "runner/jobs.hpp"

namespace ignite::queue {

class NatsJobs final : public runner::JobBackend {
 public:
  NatsJobs(NatsOptions nats, StreamOptions stream);
  ~NatsJobs() override;
  NatsJobs(const NatsJobs&) = delete;
  NatsJobs& operator=(const NatsJobs&) = delete;

  // Connects (waiting up to `patience` for a server) and makes sure the stream and the results
  // bucket exist (created when missing; an existing stream's settings are the workers').
  Result<void> start(std::chrono::milliseconds patience);

  Submitted submit(engine::AdhocRequest request, std::string owner, const std::string& idempotency_key) override;
  std::shared_ptr<const std::string> get(const std::string& id, const std::string& owner) const override;
  std::size_t pending() const override { return 0; }  // the stream knows; not asked per scrape
  void close() override;
  void shutdown() override { close(); }

 private:
  const NatsOptions nats_;
  const StreamOptions stream_;
  Connection nc_;
  JetStream js_;
  KeyValue kv_;
  std::unique_ptr<JobStore> store_;
  std::mutex mu_;
  bool closed_ = false;
};

}  // namespace ignite::queue
