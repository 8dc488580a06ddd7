#include "runner/admission.hpp"

namespace ignite::runner {

Admission::Slot& Admission::Slot::operator=(Slot&& other) noexcept {
  if (this != &other) {
    release();
    owner_ = other.owner_;
    other.owner_ = nullptr;
  }
  return *this;
}

void Admission::Slot::release() {
  if (owner_ != nullptr) owner_->release_one();
  owner_ = nullptr;
}

Admission::Verdict Admission::acquire(Slot& slot, std::chrono::milliseconds timeout,
                                      std::stop_token stop, bool bounded) {
  std::unique_lock lock(mu_);
  if (draining_) return Verdict::draining;
  if (running_ < max_running_) {
    ++running_;
    slot = Slot(this);
    return Verdict::admitted;
  }
  // Rejecting at once when the queue is full is the point: a waiting request holds a connection
  // thread and memory, so the queue bound is what keeps the server's footprint bounded.
  if (bounded && queued_ >= max_queued_) return Verdict::queue_full;
  ++queued_;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  const bool got = cv_.wait_until(lock, stop, deadline,
                                  [&] { return draining_ || running_ < max_running_; });
  --queued_;
  if (draining_) {
    cv_.notify_all();  // wait_idle may be waiting for the queue to empty
    return Verdict::draining;
  }
  if (!got) return stop.stop_requested() ? Verdict::cancelled : Verdict::timed_out;
  ++running_;
  slot = Slot(this);
  return Verdict::admitted;
}

void Admission::release_one() {
  {
    std::lock_guard lock(mu_);
    --running_;
  }
  // notify_all, not notify_one: wait_idle and queued acquirers share the condition variable.
  cv_.notify_all();
}

void Admission::drain() {
  {
    std::lock_guard lock(mu_);
    draining_ = true;
  }
  cv_.notify_all();
}

bool Admission::wait_idle(std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mu_);
  return cv_.wait_until(lock, deadline, [&] { return running_ == 0 && queued_ == 0; });
}

std::size_t Admission::running() const {
  std::lock_guard lock(mu_);
  return running_;
}

std::size_t Admission::queued() const {
  std::lock_guard lock(mu_);
  return queued_;
}

}  // namespace ignite::runner
