// Shared fixture: a native backend plus a spec that runs the static probe at /probe.
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
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
  ExecutionResult run_ok(const SandboxSpec& spec);  // fails the test on an Error

  // Live (not zombie) processes on the host running as a sandbox uid, from [first, first +
  // count): by default the native backend's whole range (none may survive a run).
  static std::vector<int> sandbox_processes(unsigned first = 60000, unsigned count = 1000);
  static std::filesystem::path scratch_root() { return scratch_; }

  static inline std::unique_ptr<sandbox::Backend> backend_;
  static inline std::string skip_reason_;
  static inline std::filesystem::path scratch_;
};

}  // namespace ignite::testing
