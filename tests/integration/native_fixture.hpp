// Shared fixture: a native backend plus a spec that runs the static probe at /probe.
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "sandbox/native/native_backend.hpp"

namespace ignite::testing {

class NativeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite();
  // The backend first (it removes what it made under the scratch root), then the root itself.
  static void TearDownTestSuite() {
    backend_.reset();
    std::error_code ec;
    if (!scratch_.empty()) std::filesystem::remove(scratch_, ec);  // only when empty: a leak stays visible
  }

  void SetUp() override {
    if (!skip_reason_.empty()) GTEST_SKIP() << skip_reason_;
  }

  // A spec running `/probe args...` with modest limits.
  static SandboxSpec probe_spec(std::vector<std::string> args);
  Result<ExecutionResult> run(const SandboxSpec& spec) {
    return backend_->run(spec, std::stop_token{}, {});
  }
  ExecutionResult run_ok(const SandboxSpec& spec) { return expect_ok(run(spec)); }
  // The result; fails the test on an Error (and returns an empty result then).
  static ExecutionResult expect_ok(Result<ExecutionResult> r);

  // Live (not zombie) processes on the host running as a sandbox uid, from [first, first +
  // count): by default the native backend's whole range (none may survive a run).
  static std::vector<int> sandbox_processes(unsigned first = 60000, unsigned count = 1000);
  static std::filesystem::path scratch_root() { return scratch_; }

  static inline std::unique_ptr<sandbox::Backend> backend_;
  static inline std::string skip_reason_;
  static inline std::filesystem::path scratch_;
};

// A NativeTest with a backend of its own, made from a config of the test's under a scratch dir
// of its own, so that what it leaves there is its alone to find.
class OwnBackendTest : public NativeTest {
 protected:
  // Call from SetUp, after NativeTest::SetUp (it skips when there is no native backend).
  void make_own(sandbox::native::NativeConfig config, const std::string& dir_prefix) {
    root_ = scratch_root() / (dir_prefix + std::to_string(++count_));
    config.scratch_root = root_;
    auto b = sandbox::native::make_native_backend(std::move(config));
    ASSERT_TRUE(b.has_value()) << b.error().message;
    own_ = std::move(*b);
  }
  // The backend, then its dir: only when empty, so that a leak stays visible.
  void TearDown() override {
    own_.reset();
    std::error_code ec;
    if (!root_.empty()) std::filesystem::remove(root_, ec);
  }
  Result<ExecutionResult> run_own(const SandboxSpec& spec) { return own_->run(spec, std::stop_token{}, {}); }
  // Whether anything is still mounted under the backend's dir.
  bool mounted_under_root() const;

  // The runs' scratch dirs under the backend's dir, by name.
  std::set<std::string> run_dirs() const;
  // The cgroups of the run whose scratch dir is `run` (the backend's run prefix is empty).
  static std::vector<std::filesystem::path> run_cgroups(const std::string& run);

  static inline int count_ = 0;
  std::filesystem::path root_;
  std::unique_ptr<sandbox::Backend> own_;
};

}  // namespace ignite::testing
