#include "pool/demand.hpp"

#include <algorithm>
#include <cmath>

namespace ignite::pool {

double DecayingRate::at(Clock::time_point now) const {
  if (value_ == 0 || now <= when_) return value_;
  return value_ * std::exp(-seconds(now - when_) / tau_s_);
}

std::uint32_t target_idle(double rate_per_s, double refill_s, Bounds bounds, bool idle) {
  if (idle || rate_per_s <= 0) return bounds.min;
  const double want = std::ceil(2.0 * rate_per_s * std::max(refill_s, 0.001)) + 1.0;
  const double capped = std::min(want, static_cast<double>(bounds.max));
  return std::max(bounds.min, static_cast<std::uint32_t>(capped));
}

}  // namespace ignite::pool
