// Degraded mode: a host without a usable cgroup (or without seccomp notifications) is refused
// unless the operator opts in, and then every result says what it lacked. The native backend
// is pointed at an empty fake /proc, so these run the same as root and rootless.
#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <csignal>

#include "api/result_json.hpp"
#include "sandbox/native/native_backend.hpp"
#include "../common/probe_spec.hpp"
#include "sandbox_fixture.hpp"

namespace ignite::security {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class DegradedMode : public ::testing::Test {
 protected:
  void SetUp() override {
    base_ = fs::temp_directory_path() / ("ignite-sec-degraded-" + std::to_string(::getpid()));
    fs::create_directories(base_ / "proc");  // no mountinfo, no seccomp actions: nothing usable
    config_.proc = base_ / "proc";
    config_.scratch_root = base_ / "scratch";
  }
  void TearDown() override { fs::remove_all(base_); }

  SandboxSpec probe(std::vector<std::string> args) { return testing::probe_spec(std::move(args)); }

  fs::path base_;
  sandbox::native::NativeConfig config_;
};

TEST_F(DegradedMode, without_a_cgroup_the_backend_refuses_unless_degraded_is_allowed) {
  auto refused = sandbox::native::make_native_backend(config_);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, ErrorCode::unsupported);
  EXPECT_TRUE(contains(refused.error().message, "--allow-degraded")) << refused.error().message;
  config_.allow_degraded = true;
  EXPECT_TRUE(sandbox::native::make_native_backend(config_).has_value());
}

TEST_F(DegradedMode, a_degraded_run_says_so_in_every_result) {
  config_.allow_degraded = true;
  auto backend = sandbox::native::make_native_backend(config_);
  ASSERT_TRUE(backend.has_value()) << backend.error().message;
  auto r = (*backend)->run(probe({"exit", "0"}), {}, {});
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_FALSE(r->degradations.empty());
  engine::JobReport report;
  report.result = *r;
  auto doc = api::result_document(report);
  EXPECT_EQ(doc["isolationLevel"], "degraded");
  EXPECT_GE(doc["degradations"].size(), 3u);
}

TEST_F(DegradedMode, degraded_mode_still_bounds_memory_with_rlimits) {
  config_.allow_degraded = true;
  auto backend = sandbox::native::make_native_backend(config_);
  ASSERT_TRUE(backend.has_value());
  auto r = (*backend)->run(probe({"alloc", "1024"}), {}, {});
  ASSERT_TRUE(r.has_value());
  // RLIMIT_DATA (the memory limit) makes the allocation fail instead of eating the host.
  EXPECT_TRUE(contains(r->stdout_data, "malloc failed at")) << r->stdout_data;
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_GT(r->usage.peak_memory_bytes, 0u);  // the program's own peak RSS stands in
}

TEST_F(DegradedMode, without_seccomp_notifications_a_kill_rule_still_kills) {
  config_.allow_degraded = true;
  auto backend = sandbox::native::make_native_backend(config_);
  ASSERT_TRUE(backend.has_value());
  auto r = (*backend)->run(probe({"syscall", std::to_string(SYS_kexec_load)}), {}, {});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->outcome, Outcome::syscall_blocked);
  EXPECT_EQ(r->signal, SIGSYS);
  EXPECT_EQ(r->blocked_syscall, "");  // the kernel's own kill carries no name
  EXPECT_EQ(r->stdout_data, "");
}

}  // namespace
}  // namespace ignite::security
