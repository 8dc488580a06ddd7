#include "guest/job_end.hpp"

#include <signal.h>
#include <sys/wait.h>

#include <algorithm>

namespace ignite::guest {
namespace {

constexpr std::uint64_t kPage = 4096;
constexpr std::uint64_t kMinBudgetPages = (32ull << 20) / kPage;

}  // namespace

std::uint64_t thrash_budget_pages(std::uint64_t memory_limit_bytes) {
  // Cannot wrap: a count of 4 KiB pages is below 2^52, twice it below 2^53.
  return std::max(2 * (memory_limit_bytes / kPage), kMinBudgetPages);
}

bool thrashing_at_limit(std::uint64_t memory_limit_bytes, const MemorySample& sample) {
  // Refaults need evictions, and in the job's own cgroup those come from its limit; the guest's
  // global reclaim (a VM short of memory) evicts too, so the limit must have been hit as well.
  return sample.limit_hits > 0 && sample.file_refaults > thrash_budget_pages(memory_limit_bytes) &&
         sample.file_bytes < memory_limit_bytes / 16;
}

void classify_job_end(const JobEnd& end, ResultMessage& result) {
  const auto& status = end.wait_status;
  result.exit_code = status && WIFEXITED(*status) ? WEXITSTATUS(*status) : 0;
  result.signal = status && WIFSIGNALED(*status) ? WTERMSIG(*status) : 0;
  // A program that exited by itself in the moment the agent's kill was on its way is its exit.
  if (end.killed_thrashing && !(status && WIFEXITED(*status))) {
    result.outcome = "memory_exceeded";
    result.signal = SIGKILL;
    result.detail = "memory limit exceeded (killed while thrashing at the limit: no progress, no OOM kill)";
  } else if (end.killed_at_deadline && end.oom_kill_before_deadline) {
    result.outcome = "memory_exceeded";
    result.signal = SIGKILL;
    result.detail = "memory limit exceeded (cgroup OOM kill before the deadline)";
  } else if (end.killed_at_deadline) {
    result.outcome = "wall_time_exceeded";
    result.signal = SIGKILL;
    result.exit_code = 0;
  } else if (status && WIFEXITED(*status)) {
    result.outcome = "exited";
  } else if (result.signal == SIGKILL && end.oom_kills > 0) {
    result.outcome = "memory_exceeded";
    result.detail = "memory limit exceeded (cgroup OOM kill)";
  } else {
    result.outcome = "signaled";
  }
}

}  // namespace ignite::guest
