// Admission control: a bounded number of concurrent executions and a bounded wait queue.
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <mutex>
#include <stop_token>

namespace ignite::runner {

class Admission {
 public:
  enum class Verdict { admitted, queue_full, timed_out, draining, cancelled };

  // Holds one execution slot; releases it on destruction (moves transfer it).
  class Slot {
   public:
    Slot() = default;
    explicit Slot(Admission* owner) : owner_(owner) {}
    Slot(Slot&& other) noexcept : owner_(other.owner_) { other.owner_ = nullptr; }
    Slot& operator=(Slot&& other) noexcept;
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ~Slot() { release(); }
    explicit operator bool() const { return owner_ != nullptr; }
    void release();

   private:
    Admission* owner_ = nullptr;
  };

  Admission(std::size_t max_running, std::size_t max_queued)
      : max_running_(max_running), max_queued_(max_queued) {}

  // Takes a slot, waiting in the queue up to `timeout` if all are busy. `bounded` = false lets
  // internal workers (async jobs, already bounded by their own queue) wait beyond max_queued.
  // Never blocks when the queue is full or the server is draining.
  Verdict acquire(Slot& slot, std::chrono::milliseconds timeout, std::stop_token stop,
                  bool bounded = true);

  // From now on every acquire fails with `draining`, and waiting ones are woken to fail too.
  void drain();
  // Waits until no slot is held or the deadline passes; true when idle.
  bool wait_idle(std::chrono::steady_clock::time_point deadline);

  std::size_t running() const;
  std::size_t queued() const;
  std::size_t capacity() const { return max_running_; }

 private:
  void release_one();

  const std::size_t max_running_;
  const std::size_t max_queued_;
  mutable std::mutex mu_;
  std::condition_variable_any cv_;
  std::size_t running_ = 0;
  std::size_t queued_ = 0;
  bool draining_ = false;
};

}  // namespace ignite::runner
