// A spare sandbox init (NativeConfig::spare_init, what `ignite exec` and `ignite run` use): the
// first run that fits takes it and is what a cold run is (its limits included); one that does
// not fit leaves it to the next; a spare nobody takes goes with the backend and leaves nothing.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "../common/probe_spec.hpp"
#include "core/classify.hpp"
#include "native_fixture.hpp"
#include "sandbox/native/cgroup_layout.hpp"

namespace ignite::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using sandbox::native::CgroupVersion;

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Our children running ignite-sandbox-init: a spare init waits as one until a run takes it.
std::vector<int> waiting_inits() {
  std::vector<int> pids;
  const std::string me = std::to_string(::getpid());
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string status = slurp(e.path() / "status");
    const auto ppid = status.find("\nPPid:\t");
    if (status.rfind("Name:\tignite-sandbox-", 0) == 0 && ppid != std::string::npos &&
        status.compare(ppid + 7, me.size() + 1, me + "\n") == 0)
      pids.push_back(std::stoi(e.path().filename()));
  }
  return pids;
}

// Waits (bounded) until the spare's init has executed ignite-sandbox-init.
std::size_t spare_inits_after_wait() {
  const auto deadline = std::chrono::steady_clock::now() + 5s;
  while (waiting_inits().empty() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(5ms);
  return waiting_inits().size();
}

class SpareInitTest : public OwnBackendTest {
 protected:
  void SetUp() override {
    OwnBackendTest::SetUp();
    if (IsSkipped()) return;
    sandbox::native::NativeConfig cfg;
    cfg.spare_init = true;
    make_own(cfg, "spare-");
    // The spare is made with the backend: its scratch dir, cgroup, pipes and init.
    const auto dirs = run_dirs();
    ASSERT_EQ(dirs.size(), 1u) << "the spare's scratch dir";
    spare_ = *dirs.begin();
  }

  // The run cgroup the program saw itself in (the line of the pids or unified hierarchy).
  static std::string own_cgroup(const std::string& proc_self_cgroup) {
    std::istringstream lines(proc_self_cgroup);
    std::string line;
    while (std::getline(lines, line)) {
      const auto at = line.find("run-");
      if (at != std::string::npos) return line.substr(at);
    }
    return proc_self_cgroup;
  }
  static bool have_cgroups() { return sandbox::native::detect_cgroups("/proc").version != CgroupVersion::none; }

  std::string spare_;  // the spare's scratch dir name, which its cgroup's name ends with
};

TEST_F(SpareInitTest, the_first_run_takes_the_spare_and_sees_what_a_cold_run_sees) {
  auto taken = run_own(probe_spec({"read", "/proc/self/cgroup"}));
  ASSERT_TRUE(taken.has_value()) << taken.error().message;
  EXPECT_EQ(taken->exit_code, 0) << taken->stderr_data;
  if (sandbox::native::detect_cgroups("/proc").version == CgroupVersion::v1) {
    EXPECT_EQ(own_cgroup(taken->stdout_data), spare_) << taken->stdout_data;
  }
  EXPECT_TRUE(waiting_inits().empty()) << "the spare's init ran the program";

  // The same probes through the spare and through a backend without one: the same answers.
  for (const std::vector<std::string>& probe : {std::vector<std::string>{"id"}, {"hostname"}, {"env"}, {"ls", "/"}}) {
    SpareInitTest::TearDown();  // a fresh backend, with a fresh spare, for each probe
    SpareInitTest::SetUp();
    auto warm = run_own(probe_spec(probe));
    auto cold = run(probe_spec(probe));
    ASSERT_TRUE(warm.has_value() && cold.has_value());
    EXPECT_EQ(warm->exit_code, 0) << probe[0] << ": " << warm->stderr_data;
    EXPECT_EQ(warm->stdout_data, cold->stdout_data) << probe[0];
    EXPECT_EQ(warm->outcome, cold->outcome) << probe[0];
  }
}

// A spare's init is cloned when the backend is made, with whatever the supervisor ignored then
// (`ignite` ignores SIGPIPE); the program still starts with no signal ignored.
TEST_F(SpareInitTest, the_program_of_a_spare_starts_with_no_signal_ignored) {
  struct sigaction ign {}, old_pipe {};
  ign.sa_handler = SIG_IGN;
  ASSERT_EQ(::sigaction(SIGPIPE, &ign, &old_pipe), 0);
  SpareInitTest::TearDown();
  SpareInitTest::SetUp();  // the spare, cloned with SIGPIPE ignored
  ::sigaction(SIGPIPE, &old_pipe, nullptr);
  auto r = run_own(probe_spec({"read", "/proc/self/status"}));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_TRUE(waiting_inits().empty()) << "the run took the spare";
  EXPECT_NE(r->stdout_data.find("\nSigIgn:\t0000000000000000\n"), std::string::npos) << r->stdout_data;
}

TEST_F(SpareInitTest, limits_hold_in_a_run_that_took_the_spare) {
  if (!have_cgroups()) GTEST_SKIP() << "no cgroups: the spare's cgroup limits cannot be shown";
  auto r = run_own(probe_spec({"alloc", "200"}));
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(status_name(r->outcome, r->exit_code), "memory_limit") << r->stdout_data << r->detail;
  EXPECT_LE(r->usage.peak_memory_bytes, 65ull << 20);

  SpareInitTest::TearDown();
  SpareInitTest::SetUp();
  auto spec = probe_spec({"forkbomb"});
  spec.limits.wall_time = 3s;
  r = run_own(spec);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_LE(r->usage.pids_peak, 32u);

  SpareInitTest::TearDown();
  SpareInitTest::SetUp();
  spec = probe_spec({"sleep", "60000"});
  spec.limits.wall_time = 500ms;
  r = run_own(spec);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(status_name(r->outcome, r->exit_code), "timeout");
}

TEST_F(SpareInitTest, a_run_on_the_host_network_leaves_the_spare_to_the_next_run) {
  auto spec = probe_spec({"read", "/proc/self/cgroup"});
  spec.limits.network = true;  // the spare has a network namespace of its own: not for this run
  auto first = run_own(spec);
  ASSERT_TRUE(first.has_value()) << first.error().message;
  EXPECT_EQ(first->exit_code, 0) << first->stderr_data;
  EXPECT_EQ(spare_inits_after_wait(), 1u) << "the spare waits on";
  EXPECT_EQ(run_dirs(), std::set<std::string>{spare_}) << "the first run's scratch dir is gone, the spare's is not";

  auto second = run_own(probe_spec({"read", "/proc/self/cgroup"}));
  ASSERT_TRUE(second.has_value()) << second.error().message;
  EXPECT_EQ(second->exit_code, 0);
  if (sandbox::native::detect_cgroups("/proc").version == CgroupVersion::v1) {
    EXPECT_NE(own_cgroup(first->stdout_data), spare_);
    EXPECT_EQ(own_cgroup(second->stdout_data), spare_);
  }
  EXPECT_TRUE(waiting_inits().empty());
  EXPECT_TRUE(run_dirs().empty());
}

TEST_F(SpareInitTest, a_spare_no_run_takes_goes_with_the_backend_and_leaves_nothing) {
  ASSERT_EQ(spare_inits_after_wait(), 1u) << "the spare's init";
  const std::vector<fs::path> cgroups = run_cgroups(spare_);
  for (const auto& cg : cgroups) EXPECT_TRUE(fs::exists(cg)) << "the spare's cgroup " << cg;

  own_.reset();
  EXPECT_TRUE(waiting_inits().empty()) << "the spare's init is reaped";
  EXPECT_TRUE(run_dirs().empty()) << "the spare's scratch dir is removed";
  for (const auto& cg : cgroups) EXPECT_FALSE(fs::exists(cg)) << "cgroup left: " << cg;
  EXPECT_FALSE(mounted_under_root());
}

}  // namespace
}  // namespace ignite::testing
