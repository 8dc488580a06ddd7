// Late teardown (NativeConfig::late_teardown, what `ignite exec` and `ignite run` use): a cold
// run's sandbox is killed when the run ends and reaped, with its cgroup and scratch dir, by the
// next run's end or with the backend; a run that reaches the host (a writable mount, the host's
// network) is torn down at its end, as always. Either way the backend leaves nothing.
#include "../common/host_processes.hpp"
#include "native_fixture.hpp"
#include "sys/temp_dir.hpp"

namespace ignite::testing {
namespace {

namespace fs = std::filesystem;

class LateTeardownTest : public OwnBackendTest {
 protected:
  void SetUp() override {
    OwnBackendTest::SetUp();
    if (IsSkipped()) return;
    sandbox::native::NativeConfig cfg;
    cfg.late_teardown = true;
    make_own(cfg, "late-");
  }
  ExecutionResult run_late(const SandboxSpec& spec) { return expect_ok(run_own(spec)); }
};

TEST_F(LateTeardownTest, a_run_ends_with_its_sandbox_killed_which_the_backend_reaps_leaving_nothing) {
  // A daemon the program leaves behind is the process that outlives the run longest.
  const std::string token = "ignite-late-" + std::to_string(::getpid());
  const ExecutionResult r = run_late(probe_spec({"daemon", token}));
  EXPECT_EQ(r.exit_code, 0) << r.stderr_data;
  EXPECT_EQ(r.stdout_data, "daemonized\n");

  // The run is over and reported; its scratch dir and cgroup wait for the backend.
  const auto dirs = run_dirs();
  ASSERT_EQ(dirs.size(), 1u) << "the last run's scratch dir, until its teardown ends";
  const std::vector<fs::path> cgroups = run_cgroups(*dirs.begin());
  for (const auto& cg : cgroups) EXPECT_TRUE(fs::exists(cg)) << "the last run's cgroup " << cg;

  own_.reset();
  EXPECT_TRUE(host_processes_with(token).empty()) << "the daemon died with the sandbox";
  EXPECT_TRUE(sandbox_processes().empty());
  EXPECT_TRUE(run_dirs().empty()) << "the scratch dir is removed";
  for (const auto& cg : cgroups) EXPECT_FALSE(fs::exists(cg)) << "cgroup left: " << cg;
  EXPECT_FALSE(mounted_under_root());
}

TEST_F(LateTeardownTest, the_next_run_ends_the_teardown_of_the_one_before) {
  run_late(probe_spec({"exit", "0"}));
  const auto first = run_dirs();
  ASSERT_EQ(first.size(), 1u);
  run_late(probe_spec({"exit", "0"}));
  const auto second = run_dirs();
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
  EXPECT_TRUE(run_dirs().empty()) << "torn down at the end of the run";
  EXPECT_TRUE(host_processes_with("ignite-late-writes").empty());

  // The host's network: nothing of the sandbox may reach it after the run.
  SandboxSpec online = probe_spec({"daemon", "ignite-late-online"});
  online.limits.network = true;
  EXPECT_EQ(run_late(online).exit_code, 0);
  EXPECT_TRUE(run_dirs().empty()) << "torn down at the end of the run";
  EXPECT_TRUE(host_processes_with("ignite-late-online").empty());
}

}  // namespace
}  // namespace ignite::testing
