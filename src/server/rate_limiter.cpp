#include "server/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace ignite::server {

RateLimiter::RateLimiter(double rate, double burst, std::size_t max_clients)
    : rate_(rate), burst_(burst > 0 ? burst : std::max(1.0, 2 * rate)), max_clients_(max_clients) {}

bool RateLimiter::allow(const std::string& client, Clock::time_point now, int& retry_after_s) {
  if (rate_ <= 0) return true;
  std::lock_guard lock(mu_);
  auto it = buckets_.find(client);
  if (it == buckets_.end()) {
    // Security: the map is keyed by peer addresses an attacker can vary (IPv6); bound it.
    if (buckets_.size() >= max_clients_) evict_full(now);
    if (buckets_.size() >= max_clients_) {
      retry_after_s = 1;
      return false;  // still full of active clients: refuse rather than grow without bound
    }
    it = buckets_.emplace(client, Bucket{burst_, now}).first;
  }
  Bucket& b = it->second;
  const double elapsed = std::chrono::duration<double>(now - b.updated).count();
  b.tokens = std::min(burst_, b.tokens + std::max(0.0, elapsed) * rate_);
  b.updated = now;
  if (b.tokens >= 1.0) {
    b.tokens -= 1.0;
    return true;
  }
  retry_after_s = std::max(1, static_cast<int>(std::ceil((1.0 - b.tokens) / rate_)));
  return false;
}

// A bucket that has refilled completely is indistinguishable from a new one: forget it.
void RateLimiter::evict_full(Clock::time_point now) {
  std::erase_if(buckets_, [&](const auto& kv) {
    const double elapsed = std::chrono::duration<double>(now - kv.second.updated).count();
    return kv.second.tokens + elapsed * rate_ >= burst_;
  });
}

std::size_t RateLimiter::tracked() const {
  std::lock_guard lock(mu_);
  return buckets_.size();
}

}  // namespace ignite::server
