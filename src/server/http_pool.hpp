// The connection thread pool for httplib: grows on demand up to a ceiling, so a request (a
// /health probe) never waits behind long-running executions holding every fixed thread.
#pragma once
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include <httplib.h>

namespace ignite::server {

class ElasticPool final : public httplib::TaskQueue {
 public:
  explicit ElasticPool(std::size_t max_threads) : max_threads_(max_threads) {}
  ~ElasticPool() override { shutdown(); }
  ElasticPool(const ElasticPool&) = delete;
  ElasticPool& operator=(const ElasticPool&) = delete;

  // A connection: handed to an idle thread, or to a new one while under the ceiling. At the
  // ceiling it waits in the queue (httplib cannot be told to refuse it: the task owns the socket).
  void enqueue(std::function<void()> fn) override;
  // Runs what is queued, then joins every thread.
  void shutdown() override;

 private:
  void work();

  const std::size_t max_threads_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  std::size_t idle_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace ignite::server
