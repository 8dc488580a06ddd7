// Cold start and teardown of native slots: init joins the run's cgroup by itself (no
// supervisor-side move), and slots created and destroyed in bulk leave nothing on the host.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "../common/probe_spec.hpp"
#include "native_fixture.hpp"
#include "sandbox/native/cgroup_layout.hpp"

namespace ignite::testing {
namespace {

namespace fs = std::filesystem;
using sandbox::native::CgroupVersion;

// The per-run parents: where the backend creates each run's cgroup.
std::vector<fs::path> run_cgroup_parents() {
  const auto layout = sandbox::native::detect_cgroups("/proc");
  std::vector<fs::path> out;
  if (layout.version == CgroupVersion::v2) out.push_back(layout.v2_base / "ignite");
  for (const auto& [controller, dir] : layout.v1_base) out.push_back(dir);
  return out;
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Processes whose parent is this test process: a slot's init is our child until reaped.
std::vector<int> our_children() {
  std::vector<int> pids;
  const std::string me = std::to_string(::getpid());
  for (const auto& e : fs::directory_iterator("/proc")) {
    std::ifstream status(e.path() / "status");
    std::string line;
    while (std::getline(status, line)) {
      if (line.rfind("PPid:", 0) == 0 && line.substr(line.find_first_not_of(" \t", 5)) == me)
        pids.push_back(std::stoi(e.path().filename()));
    }
  }
  return pids;
}

TEST_F(NativeTest, the_program_is_in_every_hierarchy_of_its_run_cgroup) {
  const auto layout = sandbox::native::detect_cgroups("/proc");
  if (layout.version == CgroupVersion::none) GTEST_SKIP() << "no cgroups: " << layout.describe();
  auto r = run_ok(probe_spec({"read", "/proc/self/cgroup"}));
  ASSERT_EQ(r.exit_code, 0) << r.stderr_data;
  std::set<std::string> joined;
  std::istringstream lines(r.stdout_data);
  std::string line;
  while (std::getline(lines, line)) {
    // "ID:controllers:path"; the path is relative to the sandbox's cgroup namespace.
    const auto a = line.find(':'), b = line.find(':', a + 1);
    if (b == std::string::npos || line.find("ignite/run-", b) == std::string::npos) continue;
    std::istringstream controllers(line.substr(a + 1, b - a - 1));
    std::string c;
    while (std::getline(controllers, c, ',')) joined.insert(c);
  }
  if (layout.version == CgroupVersion::v2) {
    // v2: init is cloned straight into the run cgroup (CLONE_INTO_CGROUP) together with its
    // cgroup namespace, so the namespace's root is the run cgroup itself. Created elsewhere
    // and moved in, it would see a path ("/../ignite/run-...") instead.
    EXPECT_EQ(r.stdout_data, "0::/\n");
  } else {
    for (const auto& [controller, dir] : layout.v1_base) EXPECT_TRUE(joined.count(controller)) << controller << "\n" << r.stdout_data;
  }
}

// Moving a process into a cgroup through cgroup.procs takes cgroup_threadgroup_rwsem for
// writing, and the first taking after a quiet spell waits for an RCU grace period (5-20 ms
// here). Init joins by itself instead (tasks on v1, CLONE_INTO_CGROUP on v2), which waits for
// none: start() after a quiet spell stays far below one grace period.
TEST_F(NativeTest, starting_a_slot_after_a_quiet_spell_waits_for_no_rcu_grace_period) {
  if (sandbox::native::detect_cgroups("/proc").version == CgroupVersion::none) GTEST_SKIP() << "no cgroups";
  if (std::getenv("IGNITE_TEST_EMULATED"))
    GTEST_SKIP() << "a timing bound: under CPU emulation (the cgroup v2 guest) it says nothing";
  std::vector<double> ms;
  for (int i = 0; i < 9; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));  // let the rwsem go idle
    const auto t0 = std::chrono::steady_clock::now();
    auto slot = backend_->start(probe_spec({"exit", "0"}));
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    ASSERT_TRUE(slot.has_value()) << slot.error().message;
  }
  std::sort(ms.begin(), ms.end());
  EXPECT_LT(ms[4], 4.0) << "median start() after a quiet spell, ms (fastest " << ms.front() << ", slowest " << ms.back() << ")";
}

// The done-when: 32 slots created and destroyed 10 times leave no process, cgroup,
// mount or file. A quarter of them run their program; the rest are destroyed unreleased.
TEST_F(NativeTest, thirty_two_slots_created_and_destroyed_ten_times_leave_nothing) {
  const auto parents = run_cgroup_parents();
  std::set<std::string> names;  // every run cgroup / scratch dir name we made
  for (int round = 0; round < 10; ++round) {
    std::vector<std::unique_ptr<sandbox::Slot>> slots;
    for (int i = 0; i < 32; ++i) {
      auto slot = backend_->start(probe_spec({"exit", "0"}));
      ASSERT_TRUE(slot.has_value()) << "round " << round << " slot " << i << ": " << slot.error().message;
      slots.push_back(std::move(*slot));
    }
    for (const auto& e : fs::directory_iterator(scratch_root())) {
      const std::string name = e.path().filename().string();
      if (name.rfind("run-", 0) == 0) names.insert(name);
    }
    for (std::size_t i = 0; i < slots.size(); i += 4) {
      auto r = slots[i]->run(sandbox::Job{}, std::stop_token{}, {});
      ASSERT_TRUE(r.has_value()) << r.error().message;
      EXPECT_EQ(r->exit_code, 0);
    }
    slots.clear();

    EXPECT_TRUE(our_children().empty()) << "round " << round;
    for (const auto& e : fs::directory_iterator(scratch_root())) {
      const std::string name = e.path().filename().string();
      EXPECT_NE(name.rfind("run-", 0), 0u) << "scratch dir left: " << e.path();
    }
    const std::string mounts = slurp("/proc/self/mounts");
    EXPECT_EQ(mounts.find(scratch_root().string()), std::string::npos) << "a mount under the scratch root is left";
  }
  EXPECT_EQ(names.size(), 320u);
  for (const auto& parent : parents) {
    for (const auto& name : names) EXPECT_FALSE(fs::exists(parent / name)) << "cgroup left: " << (parent / name);
  }
  for (int pid : sandbox_processes()) {
    // Other test processes on this host may run sandboxes of their own: only ours count.
    const std::string cg = slurp("/proc/" + std::to_string(pid) + "/cgroup");
    for (const auto& name : names) EXPECT_EQ(cg.find(name), std::string::npos) << "process " << pid << " of " << name;
  }
}

}  // namespace
}  // namespace ignite::testing
