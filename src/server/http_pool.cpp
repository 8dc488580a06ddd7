#include "server/http_pool.hpp"

namespace ignite::server {

void ElasticPool::enqueue(std::function<void()> fn) {
  std::lock_guard lock(mu_);
  tasks_.push_back(std::move(fn));
  // Threads are never retired: the pool's high-water mark is bounded by max_threads_, and an
  // idle thread costs only its (mostly untouched) stack.
  if (tasks_.size() > idle_ && threads_.size() < max_threads_) threads_.emplace_back([this] { work(); });
  cv_.notify_one();
}

void ElasticPool::shutdown() {
  std::vector<std::thread> threads;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    threads.swap(threads_);
  }
  cv_.notify_all();
  for (auto& t : threads) t.join();
}

void ElasticPool::work() {
  for (;;) {
    std::function<void()> fn;
    {
      std::unique_lock lock(mu_);
      ++idle_;
      cv_.wait(lock, [&] { return stopping_ || !tasks_.empty(); });
      --idle_;
      if (tasks_.empty()) return;  // stopping, and nothing left to serve
      fn = std::move(tasks_.front());
      tasks_.pop_front();
    }
    fn();
  }
}

}  // namespace ignite::server
