#include "core/memory_thrash.hpp"

#include <algorithm>
#include <utility>

namespace ignite {
namespace {

constexpr std::uint64_t kPage = 4096;
constexpr std::uint64_t kMinBudgetPages = (32ull << 20) / kPage;

}  // namespace

std::uint64_t thrash_budget_pages(std::uint64_t memory_limit_bytes) {
  // Cannot wrap: a count of 4 KiB pages is below 2^52, twice it below 2^53.
  return std::max(2 * (memory_limit_bytes / kPage), kMinBudgetPages);
}

bool thrashing_at_limit(std::uint64_t memory_limit_bytes, const MemorySample& sample) {
  // Refaults need evictions, and in the run's own cgroup those come from its limit; global
  // reclaim (a host or VM short of memory) evicts too, so the limit must have been hit as well.
  return sample.limit_hits > 0 && sample.file_refaults > thrash_budget_pages(memory_limit_bytes) &&
         sample.file_bytes < memory_limit_bytes / 16;
}

ThrashWatch::ThrashWatch(std::uint64_t memory_limit_bytes, Hits hits, Stat stat)
    : limit_(memory_limit_bytes), hits_(std::move(hits)), stat_(std::move(stat)) {}

bool ThrashWatch::thrashing() {
  if (limit_ == 0) return false;
  const std::uint64_t hits = hits_();
  // The baseline is the first sample, not the construction: a run shorter than one sampling
  // interval (most are) costs no read at all.
  if (!base_hits_) base_hits_ = last_hits_ = hits;
  if (hits != last_hits_) {
    last_hits_ = hits;
    const MemorySample now = stat_();
    // Refaults count from the first limit hit seen: the ones before were not the limit's doing.
    if (!base_refaults_) base_refaults_ = now.file_refaults;
    last_ = {hits - std::min(hits, *base_hits_), now.file_refaults - std::min(now.file_refaults, *base_refaults_),
             now.file_bytes};
  }
  return thrashing_at_limit(limit_, last_);
}

}  // namespace ignite
