// The guest agent's judgement of a job's end (src/guest/job_end.hpp): the outcome it reports,
// and when a job pinned at its memory limit is thrashing. The samples are the microvm's own,
// measured under TCG with the 48 MiB python memory bomb.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <cstdint>

#include "guest/job_end.hpp"

namespace ignite::guest {
namespace {

constexpr std::uint64_t kMiB = 1ull << 20;

ResultMessage judged(const JobEnd& end) {
  ResultMessage r;
  classify_job_end(end, r);
  return r;
}

TEST(GuestJobEnd, the_thrash_budget_is_twice_the_limit_with_a_floor_and_does_not_wrap) {
  EXPECT_EQ(thrash_budget_pages(48 * kMiB), 2 * (48 * kMiB / 4096));
  EXPECT_EQ(thrash_budget_pages(4 * kMiB), 32 * kMiB / 4096);  // the floor
  EXPECT_EQ(thrash_budget_pages(0), 32 * kMiB / 4096);
  EXPECT_EQ(thrash_budget_pages(UINT64_MAX), UINT64_MAX / 4096 * 2);  // huge, not wrapped small
}

TEST(GuestJobEnd, the_measured_livelock_is_thrashing_and_the_measured_oom_path_is_not) {
  // 18 s into the run that ended as a timeout: limit hit 41,012 times, 503,808 file refaults,
  // 168 KiB of page cache left (anon 47.8 MiB).
  EXPECT_TRUE(thrashing_at_limit(48 * kMiB, {41012, 503808, 172032}));
  // A run the kernel OOM-killed: 83 limit hits, no page read back.
  EXPECT_FALSE(thrashing_at_limit(48 * kMiB, {83, 0, 0}));
  // The budget's edge: more than twice the limit, not equal.
  const auto budget = thrash_budget_pages(48 * kMiB);
  EXPECT_FALSE(thrashing_at_limit(48 * kMiB, {1, budget, 0}));
  EXPECT_TRUE(thrashing_at_limit(48 * kMiB, {1, budget + 1, 0}));
  // Refaults without the limit ever hit are the VM's global reclaim, not the job's limit.
  EXPECT_FALSE(thrashing_at_limit(48 * kMiB, {0, 10 * budget, 0}));
  // A bigger limit needs more: the same refaults are not thrashing under 1 GiB.
  EXPECT_FALSE(thrashing_at_limit(1024 * kMiB, {41012, 503808, 172032}));
}

TEST(GuestJobEnd, a_program_rereading_files_through_a_roomy_page_cache_is_not_thrashing) {
  // Small anon, a big input read over and over: refaults pile up, but the job keeps its cache.
  const auto budget = thrash_budget_pages(48 * kMiB);
  EXPECT_FALSE(thrashing_at_limit(48 * kMiB, {5000, 10 * budget, 40 * kMiB}));
  // The squeeze is the sign: under 1/16 of the limit (3 MiB of 48) it is thrashing.
  EXPECT_FALSE(thrashing_at_limit(48 * kMiB, {5000, 10 * budget, 3 * kMiB}));
  EXPECT_TRUE(thrashing_at_limit(48 * kMiB, {5000, 10 * budget, 3 * kMiB - 4096}));
}

TEST(GuestJobEnd, an_oom_kill_before_the_deadline_is_the_memory_limit_even_if_the_exit_is_seen_after) {
  JobEnd end{.wait_status = W_EXITCODE(0, SIGKILL), .killed_at_deadline = true, .oom_kill_before_deadline = true,
             .oom_kills = 1};
  auto r = judged(end);
  EXPECT_EQ(r.outcome, "memory_exceeded");
  EXPECT_EQ(r.signal, SIGKILL);
  // Without the kernel's kill before the deadline it is the deadline's, whatever came after.
  end.oom_kill_before_deadline = false;
  r = judged(end);
  EXPECT_EQ(r.outcome, "wall_time_exceeded");
  EXPECT_EQ(r.signal, SIGKILL);
  EXPECT_EQ(r.exit_code, 0);
}

TEST(GuestJobEnd, a_thrash_kill_is_the_memory_limit_unless_the_program_had_exited_by_itself) {
  JobEnd end{.wait_status = W_EXITCODE(0, SIGKILL), .killed_thrashing = true};
  auto r = judged(end);
  EXPECT_EQ(r.outcome, "memory_exceeded");
  EXPECT_EQ(r.signal, SIGKILL);
  EXPECT_NE(r.detail.find("thrashing"), std::string::npos) << r.detail;
  // Both: the thrash kill came first (the deadline's kill found the job already being killed).
  end.killed_at_deadline = true;
  EXPECT_EQ(judged(end).outcome, "memory_exceeded");
  // The program exited 0 in the moment the kill was on its way: that exit is the result.
  end = JobEnd{.wait_status = W_EXITCODE(0, 0), .killed_thrashing = true};
  r = judged(end);
  EXPECT_EQ(r.outcome, "exited");
  EXPECT_EQ(r.exit_code, 0);
}

TEST(GuestJobEnd, the_programs_own_end_exit_signal_or_oom_kill) {
  auto r = judged({.wait_status = W_EXITCODE(3, 0)});
  EXPECT_EQ(r.outcome, "exited");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.signal, 0);
  r = judged({.wait_status = W_EXITCODE(0, SIGKILL), .oom_kills = 1});
  EXPECT_EQ(r.outcome, "memory_exceeded");
  EXPECT_EQ(r.signal, SIGKILL);
  r = judged({.wait_status = W_EXITCODE(0, SIGKILL)});
  EXPECT_EQ(r.outcome, "signaled");
  EXPECT_EQ(r.signal, SIGKILL);
  // An OOM kill in the cgroup does not make another signal the memory limit.
  r = judged({.wait_status = W_EXITCODE(0, SIGSEGV), .oom_kills = 1});
  EXPECT_EQ(r.outcome, "signaled");
  EXPECT_EQ(r.signal, SIGSEGV);
  // An exit that was still reaped in time is an exit, even with an OOM kill of a child.
  r = judged({.wait_status = W_EXITCODE(1, 0), .oom_kills = 1});
  EXPECT_EQ(r.outcome, "exited");
  EXPECT_EQ(r.exit_code, 1);
}

}  // namespace
}  // namespace ignite::guest
