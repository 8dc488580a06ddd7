// The guest agent's judgement of a job's end (src/guest/job_end.hpp): the outcome it reports.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <cstdint>

#include "guest/job_end.hpp"

namespace ignite::guest {
namespace {

ResultMessage judged(const JobEnd& end) {
  ResultMessage r;
  classify_job_end(end, r);
  return r;
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

TEST(GuestJobEnd, a_call_the_agent_stopped_wins_and_carries_its_number) {
  // The agent's cgroup kill for the blocked call, seen after the deadline passed: still the call.
  JobEnd end{.wait_status = W_EXITCODE(0, SIGKILL), .killed_at_deadline = true, .blocked = std::pair{304, 0xC000003Eu}};
  auto r = judged(end);
  EXPECT_EQ(r.outcome, "syscall_blocked");
  EXPECT_EQ(r.signal, SIGSYS);
  EXPECT_EQ(r.blocked_nr, 304);
  EXPECT_EQ(r.blocked_arch, 0xC000003Eu);
  end.blocked.reset();
  EXPECT_EQ(judged(end).outcome, "wall_time_exceeded");
  EXPECT_EQ(judged(end).blocked_nr, -1);
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
