// The result document says how strong the isolation of a run was (docs/security.md).
#include <gtest/gtest.h>

#include "api/result_json.hpp"

namespace ignite::api {
namespace {

TEST(IsolationLevel, a_full_run_says_full_and_lists_nothing) {
  engine::JobReport report;
  auto doc = result_document(report);
  EXPECT_EQ(doc["isolationLevel"], "full");
  EXPECT_FALSE(doc.contains("degradations"));
  EXPECT_FALSE(doc.contains("blockedSyscall"));
}

TEST(IsolationLevel, a_degraded_run_says_degraded_and_what_it_lacked) {
  engine::JobReport report;
  report.result.degradations = {"memory: no cgroup limit", "cpu: no cgroup quota"};
  auto doc = result_document(report);
  EXPECT_EQ(doc["isolationLevel"], "degraded");
  ASSERT_EQ(doc["degradations"].size(), 2u);
  EXPECT_EQ(doc["degradations"][0], "memory: no cgroup limit");
}

TEST(IsolationLevel, a_blocked_syscall_is_named) {
  engine::JobReport report;
  report.result.outcome = Outcome::syscall_blocked;
  report.result.signal = 31;
  report.result.blocked_syscall = "kexec_load";
  auto doc = result_document(report);
  EXPECT_EQ(doc["status"], "syscall_blocked");
  EXPECT_EQ(doc["blockedSyscall"], "kexec_load");
  EXPECT_EQ(doc["signal"], "SIGSYS");
}

}  // namespace
}  // namespace ignite::api
