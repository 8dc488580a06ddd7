// Demand: how many idle slots a pool should hold, from what it has seen. Pure, unit-tested.
#pragma once
#include <chrono>
#include <cstdint>

namespace ignite::pool {

using Clock = std::chrono::steady_clock;

// Arrivals per second, as an exponentially decaying count: each arrival adds 1/tau and the
// sum decays with time constant tau, so a steady rate r settles at r.
class DecayingRate {
 public:
  explicit DecayingRate(std::chrono::milliseconds tau = std::chrono::milliseconds(2000)) : tau_s_(seconds(tau)) {}
  void arrive(Clock::time_point now) {
    value_ = at(now) + 1.0 / tau_s_;
    when_ = now;
  }
  double at(Clock::time_point now) const;

 private:
  static double seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }
  double tau_s_;
  double value_ = 0;
  Clock::time_point when_{};
};

struct Bounds {
  std::uint32_t min = 0;
  std::uint32_t max = 0;
  friend bool operator==(const Bounds&, const Bounds&) = default;
};

// Idle slots to hold: what arrives while one slot is being refilled (Little's law: rate x
// refill time), doubled for bursts, plus one; within bounds. Without demand for `idle_after`,
// just the minimum.
std::uint32_t target_idle(double rate_per_s, double refill_s, Bounds bounds, bool idle);

}  // namespace ignite::pool
