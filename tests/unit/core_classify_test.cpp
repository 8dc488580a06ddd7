// Outcome classification (core/classify): the one judgement every backend uses.
#include <sys/wait.h>

#include <csignal>

#include <gtest/gtest.h>

#include "core/classify.hpp"
#include "core/memory_thrash.hpp"

namespace ignite {
namespace {

// wait(2) statuses as the kernel encodes them.
int exited(int code) { return (code & 0xff) << 8; }
int killed_by(int sig) { return sig & 0x7f; }

ExecutionResult judged(RunEnd end) {
  ExecutionResult r;
  classify(r, end);
  return r;
}

TEST(Classify, the_program_ending_by_itself) {
  auto ok = judged({RunEnd::By::program, exited(0), false});
  EXPECT_EQ(ok.outcome, Outcome::exited);
  EXPECT_EQ(ok.exit_code, 0);
  auto failed = judged({RunEnd::By::program, exited(3), false});
  EXPECT_EQ(failed.outcome, Outcome::exited);
  EXPECT_EQ(failed.exit_code, 3);
  auto segv = judged({RunEnd::By::program, killed_by(SIGSEGV), false});
  EXPECT_EQ(segv.outcome, Outcome::signaled);
  EXPECT_EQ(segv.signal, SIGSEGV);
  EXPECT_EQ(segv.detail, "killed by signal SEGV");
  auto sys = judged({RunEnd::By::program, killed_by(SIGSYS), false});
  EXPECT_EQ(sys.outcome, Outcome::syscall_blocked);
}

TEST(Classify, our_own_stops_win_over_what_the_program_did) {
  for (auto status : {std::optional<int>{}, std::optional<int>{exited(0)}, std::optional<int>{killed_by(SIGKILL)}}) {
    auto t = judged({RunEnd::By::timeout, status, true});
    EXPECT_EQ(t.outcome, Outcome::wall_time_exceeded);
    EXPECT_EQ(t.signal, SIGKILL);
    EXPECT_EQ(judged({RunEnd::By::cancelled, status, true}).outcome, Outcome::cancelled);
    auto b = judged({RunEnd::By::blocked_syscall, status, false});
    EXPECT_EQ(b.outcome, Outcome::syscall_blocked);
    EXPECT_EQ(b.signal, SIGSYS);
  }
}

TEST(Classify, an_oom_kill_is_the_memory_limit_unless_the_program_still_succeeded) {
  auto killed = judged({RunEnd::By::program, killed_by(SIGKILL), true});
  EXPECT_EQ(killed.outcome, Outcome::memory_exceeded);
  EXPECT_EQ(killed.signal, SIGKILL);
  // Init itself may be the OOM victim: no status from the program at all.
  EXPECT_EQ(judged({RunEnd::By::program, std::nullopt, true}).outcome, Outcome::memory_exceeded);
  EXPECT_EQ(judged({RunEnd::By::program, exited(1), true}).outcome, Outcome::memory_exceeded);
  // A child of the program was OOM-killed, the program handled it and exited 0: a success.
  EXPECT_EQ(judged({RunEnd::By::program, exited(0), true}).outcome, Outcome::exited);
}

TEST(Classify, a_thrash_kill_is_the_memory_limit_unless_the_program_exited_first) {
  for (auto status : {std::optional<int>{}, std::optional<int>{killed_by(SIGKILL)}}) {
    auto r = judged({RunEnd::By::memory_thrash, status, false});
    EXPECT_EQ(r.outcome, Outcome::memory_exceeded);
    EXPECT_EQ(r.signal, SIGKILL);
    EXPECT_EQ(r.detail, kThrashKillDetail);
  }
  // It exited by itself in the moment our kill was on its way: that is its exit.
  auto raced = judged({RunEnd::By::memory_thrash, exited(4), false});
  EXPECT_EQ(raced.outcome, Outcome::exited);
  EXPECT_EQ(raced.exit_code, 4);
}

}  // namespace
}  // namespace ignite
