// Per-client token buckets: `rate` requests per second, bursts up to `burst`.
#pragma once
#include <chrono>
#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

namespace ignite::server {

class RateLimiter {
 public:
  using Clock = std::chrono::steady_clock;

  // rate <= 0 disables limiting (allow() always succeeds).
  RateLimiter(double rate, double burst, std::size_t max_clients = 10000);

  // True when `client` may make a request now (and takes a token). Otherwise false, with
  // `retry_after_s` set to the whole seconds until a token is available (at least 1).
  bool allow(const std::string& client, Clock::time_point now, int& retry_after_s);

  bool enabled() const { return rate_ > 0; }
  std::size_t tracked() const;

 private:
  struct Bucket {
    double tokens;
    Clock::time_point updated;
  };
  void evict_full(Clock::time_point now);

  const double rate_;
  const double burst_;
  const std::size_t max_clients_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Bucket> buckets_;
};

}  // namespace ignite::server
