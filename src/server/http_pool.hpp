// A fixed pool of threads, all created up front: the connection pool for httplib, and the pool
// that runs streamed executions.
//
// Why every thread exists before the first request: the sandbox's clone3 child calls glibc's
// setgroups/setresgid/setresuid, which (in a child of a multi-threaded process) wait for any
// thread that was mid-pthread_create at clone time — forever. A thread counts as created only
// once it runs, so the constructor waits until every thread has started. Creating no threads while
// sandboxes are being spawned avoids that deadlock (see the report on issue 5), and a pool
// sized for the connection ceiling also means a /health probe never waits behind executions.
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

class FixedPool final : public httplib::TaskQueue {
 public:
  explicit FixedPool(std::size_t threads);
  ~FixedPool() override { shutdown(); }
  FixedPool(const FixedPool&) = delete;
  FixedPool& operator=(const FixedPool&) = delete;

  // Runs `fn` on an idle thread; beyond the pool size tasks wait in order (httplib cannot be
  // told to refuse a connection: the task owns the socket).
  void enqueue(std::function<void()> fn) override;
  // Runs what is queued, then joins every thread. Idempotent.
  void shutdown() override;

 private:
  void work();

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
  bool stopping_ = false;
  std::size_t started_ = 0;
  std::vector<std::thread> threads_;
};

}  // namespace ignite::server
