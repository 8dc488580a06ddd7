#include "server/jobs.hpp"

#include <openssl/rand.h>

#include <cstdio>
#include <random>

#include "server/http_error.hpp"

namespace ignite::server {

std::string random_id() {
  unsigned char bytes[16] = {};
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    std::random_device rd;  // OpenSSL's CSPRNG failing is near impossible; still, no zeros
    for (auto& b : bytes) b = static_cast<unsigned char>(rd());
  }
  std::string out;
  char hex[3];
  for (unsigned char b : bytes) {
    std::snprintf(hex, sizeof hex, "%02x", static_cast<unsigned>(b));
    out += hex;
  }
  return out;
}

JobQueue::JobQueue(Executor executor, std::size_t workers, std::size_t max_queued, std::size_t max_kept)
    : executor_(std::move(executor)), max_queued_(max_queued), max_kept_(max_kept) {
  for (std::size_t i = 0; i < workers; ++i) workers_.emplace_back([this](std::stop_token st) { work(st); });
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return started_ == workers_.size(); });
}

JobQueue::~JobQueue() { shutdown(); }

JobQueue::Submitted JobQueue::submit(engine::AdhocRequest request, const std::string& idempotency_key) {
  std::lock_guard lock(mu_);
  if (!idempotency_key.empty()) {
    if (auto it = by_key_.find(idempotency_key); it != by_key_.end())
      return {true, it->second, jobs_.at(it->second).status};
  }
  if (closed_ || queue_.size() >= max_queued_) return {false, "", ""};
  Job job;
  job.id = random_id();
  job.idempotency_key = idempotency_key;
  job.request = std::move(request);
  const std::string id = job.id;
  if (!idempotency_key.empty()) by_key_[idempotency_key] = id;
  jobs_.emplace(id, std::move(job));
  queue_.push_back(id);
  cv_.notify_one();
  return {true, id, "queued"};
}

std::optional<nlohmann::json> JobQueue::get(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return std::nullopt;
  const Job& job = it->second;
  nlohmann::json out = {{"id", job.id}, {"status", job.status}};
  if (job.status == "done") out["result"] = job.result;
  if (job.status == "failed") out["error"] = job.result["error"];
  return out;
}

std::size_t JobQueue::pending() const {
  std::lock_guard lock(mu_);
  return queue_.size();
}

void JobQueue::close() {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    for (const auto& id : queue_) {
      Job& job = jobs_.at(id);
      job.status = "failed";
      job.result = error_body({503, "shutting_down", "the server shut down before the job ran"});
    }
    queue_.clear();
  }
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
    nlohmann::json result = executor_(request, stop, failed);
    std::lock_guard lock(mu_);
    Job& job = jobs_.at(id);
    job.status = failed ? "failed" : "done";
    job.result = std::move(result);
    finished_.push_back(id);
    forget_old_locked();
  }
}

void JobQueue::forget_old_locked() {
  while (finished_.size() > max_kept_) {
    auto it = jobs_.find(finished_.front());
    finished_.pop_front();
    if (it == jobs_.end()) continue;
    if (!it->second.idempotency_key.empty()) by_key_.erase(it->second.idempotency_key);
    jobs_.erase(it);
  }
}

}  // namespace ignite::server
