// The cgroup v2 paths against a real v2 hierarchy. This machine's cgroups are v1, so these run
// inside the v2 guest (ctest -L cgroup2: scripts/guest-run + tests/cgroup2/suite.sh) and skip,
// saying so, everywhere else. NativeTest's bombs, timeouts and orphans run there too; this file
// checks what only v2 has: the parent it prepares, memory.peak/pids.peak/memory.events, and
// cgroup.kill with rmdir leaving nothing behind.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <thread>

#include "../common/probe_spec.hpp"
#include "native_fixture.hpp"
#include "sandbox/native/cgroup_layout.hpp"
#include "sys/files.hpp"

namespace ignite::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using sandbox::native::CgroupVersion;

class CgroupV2Test : public NativeTest {
 protected:
  void SetUp() override {
    NativeTest::SetUp();
    if (IsSkipped()) return;
    layout_ = sandbox::native::detect_cgroups();
    if (layout_.version != CgroupVersion::v2)
      GTEST_SKIP() << "this host's cgroups are not v2 (" << layout_.describe()
                   << "); ctest -L cgroup2 runs this inside a v2 guest";
  }

  // The per-run parent the backend prepared (detect_cgroups sees through the supervisor leaf).
  static fs::path run_parent(const sandbox::native::CgroupLayout& l) { return l.v2_base / "ignite"; }

  static std::size_t subdirs(const fs::path& dir) {
    std::size_t n = 0;
    for (const auto& e : fs::directory_iterator(dir)) n += e.is_directory();
    return n;
  }

  sandbox::native::CgroupLayout layout_;
};

TEST_F(CgroupV2Test, the_run_parent_has_memory_and_pids_and_no_processes_of_its_own) {
  const fs::path parent = run_parent(layout_);
  ASSERT_TRUE(fs::is_directory(parent)) << parent;
  auto control = sys::read_file(parent / "cgroup.subtree_control");
  ASSERT_TRUE(control.has_value());
  EXPECT_NE(control->find("memory"), std::string::npos) << *control;
  EXPECT_NE(control->find("pids"), std::string::npos) << *control;
  // "No internal processes": the cgroup that enables controllers for its children holds none
  // (the root cgroup is exempt, and is where the root layout runs us).
  const fs::path own = parent.parent_path();
  if (own != "/sys/fs/cgroup") {
    auto procs = sys::read_file(own / "cgroup.procs");
    ASSERT_TRUE(procs.has_value());
    EXPECT_EQ(*procs, "") << "processes left in " << own;
  }
  // The supervisor (this process) is in a leaf with no controllers enabled below it.
  auto self = sys::read_file("/proc/self/cgroup");
  ASSERT_TRUE(self.has_value());
  EXPECT_EQ(self->rfind("0::", 0), 0u) << *self;
}

TEST_F(CgroupV2Test, peak_memory_and_oom_come_from_the_run_s_own_cgroup) {
  auto spec = probe_spec({"alloc", "40"});  // 40 MiB touched, under the 64 MiB limit
  auto r = run_ok(spec);
  EXPECT_EQ(r.outcome, Outcome::exited) << r.detail << r.stderr_data;
  EXPECT_GT(r.usage.peak_memory_bytes, 40ull << 20);
  EXPECT_LE(r.usage.peak_memory_bytes, 64ull << 20);

  auto bomb = probe_spec({"alloc", "200"});
  auto b = run_ok(bomb);
  EXPECT_EQ(b.outcome, Outcome::memory_exceeded) << b.detail;
  EXPECT_LE(b.usage.peak_memory_bytes, 64ull << 20);
  EXPECT_GT(b.usage.peak_memory_bytes, 32ull << 20);
}

TEST_F(CgroupV2Test, pids_peak_counts_the_run_s_processes) {
  ASSERT_TRUE(fs::is_directory(run_parent(layout_))) << "no run parent";
  auto r = run_ok(probe_spec({"forkbomb"}));
  EXPECT_GT(r.usage.pids_peak, 10u);
  EXPECT_LE(r.usage.pids_peak, 32u);
}

TEST_F(CgroupV2Test, a_thousand_runs_leave_no_cgroup_behind) {
  const fs::path parent = run_parent(layout_);
  const std::size_t before = subdirs(parent);
  constexpr int kRuns = 1000;
  constexpr int kThreads = 2;
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < kRuns; i += kThreads) {
        // Every fourth leaves a double-forked child behind for cgroup.kill to find.
        auto r = run(probe_spec({i % 4 == 0 ? "daemon" : "exit", "0"}));
        if (!r || r->exit_code != 0) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(subdirs(parent), before) << "cgroups left under " << parent;
  EXPECT_TRUE(sandbox_processes().empty());
}

}  // namespace
}  // namespace ignite::testing
