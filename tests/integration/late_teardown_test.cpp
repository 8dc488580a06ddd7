// Late teardown (NativeConfig::late_teardown, what `ignite exec` and `ignite run` use): a cold
// run's sandbox is killed when the run ends and reaped, with its cgroup and scratch dir, by the
// next run's end or with the backend; a run that reaches the host (a writable mount, the host's
// network) is torn down at its end, as always. Either way the backend leaves nothing.
#include <chrono>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "../common/host_processes.hpp"
#include "native_fixture.hpp"
#include "sandbox/native/cgroup_layout.hpp"
#include "sys/temp_dir.hpp"

namespace ignite::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using sandbox::native::CgroupVersion;

std::set<std::string> run_dirs(const fs::path& root) {
  std::set<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("run-", 0) == 0) names.insert(name);
  }
  return names;
}

// The run cgroups a scratch dir's name stands for (the backend's run_prefix is empty here).
std::vector<fs::path> run_cgroups(const std::string& run) {
  std::vector<fs::path> dirs;
  const auto layout = sandbox::native::detect_cgroups("/proc");
  if (layout.version == CgroupVersion::v2) dirs.push_back(layout.v2_base / "ignite" / run);
  for (const auto& [controller, dir] : layout.v1_base) dirs.push_back(dir / run);
  return dirs;
}

bool mounted_under(const fs::path& root) {
  std::ifstream in("/proc/self/mounts");
  std::stringstream s;
  s << in.rdbuf();
  return s.str().find(root.string()) != std::string::npos;
}

class LateTeardownTest : public NativeTest {
 protected:
  void SetUp() override {
    NativeTest::SetUp();
    if (IsSkipped()) return;
    root_ = scratch_root() / ("late-" + std::to_string(++count_));
    sandbox::native::NativeConfig cfg;
    cfg.scratch_root = root_;
    cfg.late_teardown = true;
    auto b = sandbox::native::make_native_backend(cfg);
    ASSERT_TRUE(b.has_value()) << b.error().message;
    late_ = std::move(*b);
  }
  void TearDown() override {
    late_.reset();
    std::error_code ec;
    if (!root_.empty()) fs::remove(root_, ec);  // only when empty: a leak stays visible
  }

  ExecutionResult run_late(const SandboxSpec& spec) {
    auto r = late_->run(spec, std::stop_token{}, {});
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
    return r ? std::move(*r) : ExecutionResult{};
  }

  static inline int count_ = 0;
  fs::path root_;
  std::unique_ptr<sandbox::Backend> late_;
};

TEST_F(LateTeardownTest, a_run_ends_with_its_sandbox_killed_which_the_backend_reaps_leaving_nothing) {
  // A daemon the program leaves behind is the process that outlives the run longest.
  const std::string token = "ignite-late-" + std::to_string(::getpid());
  const ExecutionResult r = run_late(probe_spec({"daemon", token}));
  EXPECT_EQ(r.exit_code, 0) << r.stderr_data;
  EXPECT_EQ(r.stdout_data, "daemonized\n");

  // The run is over and reported; its scratch dir and cgroup wait for the backend.
  const auto dirs = run_dirs(root_);
  ASSERT_EQ(dirs.size(), 1u) << "the last run's scratch dir, until its teardown ends";
  const std::vector<fs::path> cgroups = run_cgroups(*dirs.begin());
  for (const auto& cg : cgroups) EXPECT_TRUE(fs::exists(cg)) << "the last run's cgroup " << cg;

  late_.reset();
  EXPECT_TRUE(host_processes_with(token).empty()) << "the daemon died with the sandbox";
  EXPECT_TRUE(sandbox_processes().empty());
  EXPECT_TRUE(run_dirs(root_).empty()) << "the scratch dir is removed";
  for (const auto& cg : cgroups) EXPECT_FALSE(fs::exists(cg)) << "cgroup left: " << cg;
  EXPECT_FALSE(mounted_under(root_));
}

TEST_F(LateTeardownTest, the_next_run_ends_the_teardown_of_the_one_before) {
  run_late(probe_spec({"exit", "0"}));
  const auto first = run_dirs(root_);
  ASSERT_EQ(first.size(), 1u);
  run_late(probe_spec({"exit", "0"}));
  const auto second = run_dirs(root_);
  ASSERT_EQ(second.size(), 1u) << "one run's sandbox waits at most";
  EXPECT_NE(*second.begin(), *first.begin()) << "the first run's scratch dir went at the second's end";
  for (const auto& cg : run_cgroups(*first.begin())) EXPECT_FALSE(fs::exists(cg)) << "cgroup left: " << cg;
}

TEST_F(LateTeardownTest, a_run_that_reaches_the_host_is_torn_down_at_its_end) {
  // A writable mount: what the run wrote is read next (a build step's output), by then no
  // process of the sandbox may be left to change it.
  auto dir = sys::TempDir::create(scratch_root(), "late-out-");
  ASSERT_TRUE(dir.has_value()) << dir.error().message;
  SandboxSpec writes = probe_spec({"daemon", "ignite-late-writes"});
  writes.mounts.push_back({dir->path(), "/data", true});
  EXPECT_EQ(run_late(writes).exit_code, 0);
  EXPECT_TRUE(run_dirs(root_).empty()) << "torn down at the end of the run";
  EXPECT_TRUE(host_processes_with("ignite-late-writes").empty());

  // The host's network: nothing of the sandbox may reach it after the run.
  SandboxSpec online = probe_spec({"daemon", "ignite-late-online"});
  online.limits.network = true;
  EXPECT_EQ(run_late(online).exit_code, 0);
  EXPECT_TRUE(run_dirs(root_).empty()) << "torn down at the end of the run";
  EXPECT_TRUE(host_processes_with("ignite-late-online").empty());
}

}  // namespace
}  // namespace ignite::testing
