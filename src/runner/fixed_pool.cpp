#include "runner/fixed_pool.hpp"

namespace ignite::runner {

FixedPool::FixedPool(std::size_t threads) {
  workers_.reserve(threads);
  threads_.reserve(threads);
  for (std::size_t i = 0; i < threads; ++i) workers_.push_back(std::make_unique<Worker>());
  for (auto& w : workers_) threads_.emplace_back([this, &w = *w] { work(w); });
  if (threads > 0) all_started_.acquire();
}

void FixedPool::enqueue(std::function<void()> fn) {
  Worker* worker = nullptr;
  {
    std::lock_guard lock(mu_);
    if (idle_.empty()) {
      tasks_.push_back(std::move(fn));
      return;
    }
    worker = idle_.back();
    idle_.pop_back();
    worker->task = std::move(fn);
  }
  worker->wake.release();
}

void FixedPool::shutdown() {
  std::vector<std::thread> threads;
  std::vector<Worker*> idle;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    threads.swap(threads_);
    idle.swap(idle_);
  }
  for (Worker* w : idle) w->wake.release();  // with no task: they see `stopping_` and return
  for (auto& t : threads) t.join();
}

void FixedPool::work(Worker& self) {
  {
    std::lock_guard lock(mu_);
    if (++started_ == workers_.size()) all_started_.release();
  }
  for (;;) {
    std::function<void()> fn;
    {
      std::lock_guard lock(mu_);
      if (!tasks_.empty()) {
        fn = std::move(tasks_.front());
        tasks_.pop_front();
      } else if (stopping_) {
        return;  // nothing left to serve
      } else {
        idle_.push_back(&self);
      }
    }
    if (!fn) {
      self.wake.acquire();
      fn = std::move(self.task);
      self.task = nullptr;
      if (!fn) return;  // woken by shutdown()
    }
    fn();
  }
}

}  // namespace ignite::runner
