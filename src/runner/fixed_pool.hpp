// A fixed pool of threads, all created up front: the HTTP server's pools for blocking route
// handlers and streamed executions, and the NATS worker's pools for jobs and service requests.
//
// Every thread exists before the first request, so the server's concurrency is fixed and no
// request pays for a thread's creation. (It used to be required: the sandbox's clone child called
// glibc's set*id wrappers, which wait for threads the clone does not have. The child makes raw
// syscalls only now, and NativeTest.sandboxes_start_while_other_threads_are_created_and_destroyed
// holds it to that: with the wrappers back, every run under thread churn hangs in setup.)
//
// Why each idle thread has its own semaphore instead of all sharing one condition variable:
// enqueue() runs on the server's I/O threads, which must never wait. glibc's
// pthread_cond_signal can block until previously woken waiters have been scheduled
// (__condvar_quiesce_and_switch_g1); with many waiters on two busy cores that stalled the
// caller for 200-500 ms under a load burst (measured with the thread-per-connection server this
// pool used to serve). Releasing one thread's semaphore is an atomic store and a futex wake: it
// never waits for anybody.
#pragma once
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <semaphore>
#include <thread>
#include <vector>

namespace ignite::runner {

class FixedPool final {
 public:
  explicit FixedPool(std::size_t threads);
  ~FixedPool() { shutdown(); }
  FixedPool(const FixedPool&) = delete;
  FixedPool& operator=(const FixedPool&) = delete;

  // Hands `fn` to an idle thread; beyond the pool size tasks wait in order. Never blocks on the
  // workers.
  void enqueue(std::function<void()> fn);
  // Runs what is queued, then joins every thread. Idempotent.
  void shutdown();

 private:
  struct Worker {
    std::binary_semaphore wake{0};
    std::function<void()> task;  // set by enqueue() before `wake` is released
  };
  void work(Worker& self);

  std::mutex mu_;  // guards everything below; held only for O(1) list operations
  std::deque<std::function<void()>> tasks_;  // waiting for a thread
  std::vector<Worker*> idle_;                // waiting for a task
  bool stopping_ = false;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> threads_;
  std::binary_semaphore all_started_{0};
  std::size_t started_ = 0;
};

}  // namespace ignite::runner
