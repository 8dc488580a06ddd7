#include "runner/jobs.hpp"

#include <algorithm>

#include "api/request_error.hpp"
#include "sys/random.hpp"

namespace ignite::runner {

std::string random_id() { return sys::random_hex(16); }

JobQueue::JobQueue(Executor executor, std::size_t workers, JobBounds bounds)
    : executor_(std::move(executor)), bounds_([&] {
        // A result that may be kept at all must fit in what is kept in total.
        bounds.max_result_bytes = std::min(bounds.max_result_bytes, bounds.max_kept_bytes);
        return bounds;
      }()) {
  for (std::size_t i = 0; i < workers; ++i) workers_.emplace_back([this](std::stop_token st) { work(st); });
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return started_ == workers_.size(); });
}

JobQueue::~JobQueue() { shutdown(); }

JobQueue::Submitted JobQueue::submit(engine::AdhocRequest request, std::string owner,
                                     const std::string& idempotency_key) {
  std::lock_guard lock(mu_);
  if (!idempotency_key.empty()) {
    if (auto it = by_key_.find(idempotency_key); it != by_key_.end())
      return {true, it->second, jobs_.at(it->second).status};
  }
  if (closed_ || queue_.size() >= bounds_.max_queued) return {false, "", ""};
  Job job;
  job.id = random_id();
  job.owner = std::move(owner);
  job.idempotency_key = idempotency_key;
  job.request = std::move(request);
  const std::string id = job.id;
  if (!idempotency_key.empty()) by_key_[idempotency_key] = id;
  jobs_.emplace(id, std::move(job));
  queue_.push_back(id);
  cv_.notify_one();
  return {true, id, "queued"};
}

std::shared_ptr<const std::string> JobQueue::get(const std::string& id, const std::string& owner) const {
  std::lock_guard lock(mu_);
  auto it = jobs_.find(id);
  // Security: another key's job answers exactly like an unknown id, so ids cannot be probed.
  if (it == jobs_.end() || it->second.owner != owner) return nullptr;
  const Job& job = it->second;
  if (job.body) return job.body;  // finished: the one shared copy
  return std::make_shared<const std::string>(
      nlohmann::json{{"id", job.id}, {"status", job.status}}.dump() + "\n");
}

std::size_t JobQueue::pending() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

std::size_t JobQueue::kept_bytes() const {
  std::lock_guard lock(mu_);
  return kept_bytes_;
}

JobQueue::Finished JobQueue::finished_body(const std::string& id, nlohmann::json outcome,
                                          bool failed) const {
  nlohmann::json doc = {{"id", id}, {"status", failed ? "failed" : "done"}};
  if (failed) {
    doc["error"] = std::move(outcome["error"]);
  } else {
    doc["result"] = std::move(outcome);
  }
  auto text = std::make_shared<std::string>(doc.dump());
  text->push_back('\n');
  if (text->size() <= bounds_.max_result_bytes) return {std::move(text), failed};
  const api::RequestError too_large{500, "result_too_large",
                            "the job's result was " + std::to_string(text->size()) +
                                " bytes, more than the " + std::to_string(bounds_.max_result_bytes) +
                                " bytes kept per job (--max-job-result-bytes); it was dropped"};
  text.reset();  // before the replacement is built: never both at once
  return {std::make_shared<const std::string>(
              nlohmann::json{{"id", id}, {"status", "failed"}, {"error", api::error_body(too_large)["error"]}}.dump() +
              "\n"),
          true};
}

void JobQueue::finish_locked(Job& job, Finished finished) {
  job.status = finished.failed ? "failed" : "done";
  kept_bytes_ += finished.body->size();
  job.body = std::move(finished.body);
  finished_.push_back(job.id);
  forget_old_locked();
}

void JobQueue::close() {
  std::lock_guard lock(mu_);
  closed_ = true;
  for (const auto& id : queue_) {
    Job& job = jobs_.at(id);
    finish_locked(job, finished_body(id, api::error_body({503, "shutting_down", "the server shut down before the job ran"}),
                                     true));
  }
  queue_.clear();
}

void JobQueue::shutdown() {
  close();
  // request_stop reaches the running jobs' stop tokens: their sandboxes are killed.
  for (auto& w : workers_) w.request_stop();
  cv_.notify_all();
  for (auto& w : workers_) {
    if (w.joinable()) w.join();
  }
}

void JobQueue::work(std::stop_token stop) {
  {
    std::lock_guard lock(mu_);
    ++started_;
  }
  cv_.notify_all();
  for (;;) {
    std::string id;
    engine::AdhocRequest request;
    {
      std::unique_lock lock(mu_);
      if (!cv_.wait(lock, stop, [&] { return !queue_.empty(); })) return;
      id = queue_.front();
      queue_.pop_front();
      Job& job = jobs_.at(id);
      job.status = "running";
      request = std::move(job.request);
    }
    bool failed = false;
    nlohmann::json outcome = executor_(request, stop, failed);
    Finished finished = finished_body(id, std::move(outcome), failed);
    std::lock_guard lock(mu_);
    finish_locked(jobs_.at(id), std::move(finished));
  }
}

void JobQueue::forget_old_locked() {
  // Oldest finished first, until both bounds hold. Readers still sending a forgotten body keep
  // their reference until their write ends (bounded by the write timeout).
  while (!finished_.empty() &&
         (finished_.size() > bounds_.max_kept || kept_bytes_ > bounds_.max_kept_bytes)) {
    auto it = jobs_.find(finished_.front());
    finished_.pop_front();
    if (it == jobs_.end()) continue;
    if (it->second.body) kept_bytes_ -= it->second.body->size();
    if (!it->second.idempotency_key.empty()) by_key_.erase(it->second.idempotency_key);
    jobs_.erase(it);
  }
}

}  // namespace ignite::runner
