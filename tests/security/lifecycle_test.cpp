// Lifecycle: however a run ends, nothing of it survives, and a thousand runs leave the host as
// they found it (cgroups, mounts, scratch area, the supervisor's fds).
#include <sys/syscall.h>

#include <unistd.h>

#include <thread>

#include "sandbox/native/cgroup_layout.hpp"
#include "sandbox_fixture.hpp"
#include "sys/files.hpp"

namespace ignite::security {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

IGNITE_SECURITY_SUITE(Lifecycle);

TEST_P(Lifecycle, no_process_survives_a_normal_exit) {
  auto r = run(probe({"daemon", token()}));
  EXPECT_EQ(r.stdout_data, "daemonized\n");
  EXPECT_TRUE(host::processes_with(token()).empty());
}

TEST_P(Lifecycle, no_process_survives_a_timeout) {
  // setsid + double fork + SIGHUP/SIGTERM ignored (nohup), then the program hangs.
  auto spec = probe({"then-daemon", token(), "sleep", "60000"});
  spec.limits.wall_time = 300ms;
  auto r = run(spec);
  EXPECT_EQ(r.outcome, Outcome::wall_time_exceeded);
  EXPECT_EQ(r.stdout_data, "daemonized\n");
  EXPECT_TRUE(host::processes_with(token()).empty());
}

TEST_P(Lifecycle, no_process_survives_an_oom_kill) {
  IGNITE_REQUIRE_CGROUP("the cgroup memory limit (OOM kill)");
  auto r = run(probe({"then-daemon", token(), "alloc", "512"}));
  EXPECT_EQ(r.outcome, Outcome::memory_exceeded) << r.detail;
  EXPECT_TRUE(host::processes_with(token()).empty());
}

TEST_P(Lifecycle, no_process_survives_a_blocked_syscall_kill) {
  auto r = run(probe({"then-daemon", token(), "syscall", std::to_string(SYS_kexec_load)}));
  EXPECT_EQ(r.outcome, Outcome::syscall_blocked) << r.detail;
  EXPECT_TRUE(host::processes_with(token()).empty());
}

TEST_P(Lifecycle, no_process_survives_cancellation) {
  std::stop_source stop;
  std::jthread canceller;
  auto r = try_run(probe({"then-daemon", token(), "sleep", "60000"}), stop.get_token(),
                   [&](sandbox::Stream, std::string_view chunk) {
                     // Cancel from another thread once the daemon exists, as a server would.
                     if (contains(std::string(chunk), "daemonized"))
                       canceller = std::jthread([&] { stop.request_stop(); });
                   });
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->outcome, Outcome::cancelled);
  EXPECT_TRUE(host::processes_with(token()).empty());
}

// Directories under the per-run cgroup parents (every v1 hierarchy, or the v2 parent).
long cgroup_children() {
  auto layout = sandbox::native::detect_cgroups();
  long n = 0;
  if (layout.version == sandbox::native::CgroupVersion::v2)
    n += host::dir_entries(layout.v2_base / "ignite");
  for (const auto& [controller, dir] : layout.v1_base) n += host::dir_entries(dir);
  return n;
}

// Moves this process into a fresh child of its cgroup (every hierarchy) for its lifetime, so
// the per-run cgroups counted are this test's alone: other Ignite processes on the host share
// the usual parent. On v2 the child is made where the per-run parent lives (the cgroup given
// to Ignite, which enables controllers for its children), and we return to the leaf we came
// from. Does nothing without write access (rootless without delegation).
class PrivateCgroup {
 public:
  explicit PrivateCgroup(const std::string& name) {
    auto layout = sandbox::native::detect_cgroups();
    std::vector<std::pair<fs::path, fs::path>> own;  // where to make it, where we are now
    if (layout.version == sandbox::native::CgroupVersion::v2) {
      const auto here = sandbox::native::cgroups_of(::getpid());
      if (here.dirs.empty()) return;
      own.emplace_back(layout.v2_base, here.dirs.front().second);
    }
    for (const auto& [controller, dir] : layout.v1_base) own.emplace_back(dir.parent_path(), dir.parent_path());
    for (const auto& [parent, origin] : own) {
      std::error_code ec;
      if (!fs::create_directory(parent / name, ec) || ec) continue;
      made_.push_back({origin, parent / name});
      if (!sys::write_file(parent / name / "cgroup.procs", std::to_string(::getpid()))) return;
    }
  }
  ~PrivateCgroup() {
    for (const auto& [origin, mine] : made_) {
      (void)sys::write_file(origin / "cgroup.procs", std::to_string(::getpid()));
      for (const char* sub : {"ignite", "supervisor"}) ::rmdir((mine / sub).c_str());
      ::rmdir(mine.c_str());
    }
  }
  PrivateCgroup(const PrivateCgroup&) = delete;
  PrivateCgroup& operator=(const PrivateCgroup&) = delete;

 private:
  std::vector<std::pair<fs::path, fs::path>> made_;  // where we came from, the private cgroup
};

TEST_P(Lifecycle, a_thousand_runs_leave_no_trace) {  // 50 on docker
  if (vm())
    GTEST_SKIP() << "a thousand VMs under TCG take ~15 min: the microvm backend's leak test is "
                    "MicroVmTemplates.a_hundred_runs_with_timeouts_and_kills_leave_no_vmm_socket_or_memory_file";
  PrivateCgroup private_cgroup("ignite-sec-" + std::to_string(::getpid()));
  const long mounts_before = host::mount_count(), fds_before = host::open_fd_count();
  // A backend created inside the private cgroup puts its per-run parent there.
  auto made = GetParam().make(scratch(), rootless());
  ASSERT_TRUE(made.has_value()) << made.error().message;
  std::unique_ptr<sandbox::Backend> backend = std::move(*made);
  const long cgroups = cgroup_children(), mounts = host::mount_count(),
             fds = host::open_fd_count();
  int outcomes[8] = {};
  // A container costs ~0.25 s to create and start: the docker cases make 50 runs (each case five
  // times; ~60 s each at 200 made them two of the CI's slowest tests), the others 1000. The docker
  // issue's own bar, 200 runs with timeouts and OOM kills, is
  // DockerBackendTest.two_hundred_runs_with_timeouts_and_oom_kills_leave_no_container_or_dir.
  const int runs = containers() ? 50 : 1000;
  for (int i = 0; i < runs; ++i) {
    SandboxSpec spec;
    switch (i % 10) {
      case 0:  // timeout
        spec = probe({"sleep", "60000", token()});
        spec.limits.wall_time = 20ms;
        break;
      case 1:  // memory limit (an rlimit failure when degraded)
        spec = probe({"alloc", "64"});
        spec.limits.memory_bytes = 16ull << 20;
        break;
      case 2:  // killed for a blocked syscall (exercises the seccomp listener hand-over)
        spec = probe({"syscall", std::to_string(SYS_kexec_load)});
        break;
      case 3:
      case 4:  // a daemon left behind
        spec = probe({"daemon", token()});
        break;
      default:
        spec = probe({"exit", "0"});
    }
    auto r = backend->run(spec, {}, {});
    ASSERT_TRUE(r.has_value()) << "run " << i << ": " << r.error().message;
    ++outcomes[static_cast<int>(r->outcome)];
  }
  EXPECT_EQ(outcomes[static_cast<int>(Outcome::wall_time_exceeded)], runs / 10);
  EXPECT_EQ(outcomes[static_cast<int>(Outcome::syscall_blocked)], runs / 10);
  if (has_cgroup()) {
    EXPECT_EQ(outcomes[static_cast<int>(Outcome::memory_exceeded)], runs / 10);
  }
  // The docker backend removes containers on a reaper thread, off the callers' path; its
  // destruction drains it. dockerd's own mounts (container root filesystems) show in our mount
  // table while it removes containers, also of earlier tests: none of this test's may remain.
  if (containers()) {
    backend.reset();
    EXPECT_LE(host::mount_count(), mounts_before);
    EXPECT_LE(host::open_fd_count(), fds_before);
    EXPECT_EQ(host::dir_entries(scratch()), 0);
    EXPECT_TRUE(host::processes_with(token()).empty());
    return;
  }
  // Degraded (rootless) runs create no cgroups; the shared parent is other processes' business.
  if (has_cgroup()) {
    EXPECT_EQ(cgroup_children(), cgroups);
  }
  EXPECT_EQ(host::mount_count(), mounts);
  EXPECT_EQ(host::open_fd_count(), fds);
  EXPECT_EQ(host::dir_entries(scratch()), 0);
  EXPECT_TRUE(host::processes_with(token()).empty());
}

TEST_P(Lifecycle, a_failed_setup_leaves_no_trace) {
  PrivateCgroup private_cgroup("ignite-sec-" + std::to_string(::getpid()));
  auto made = GetParam().make(scratch(), rootless());
  ASSERT_TRUE(made.has_value()) << made.error().message;
  std::unique_ptr<sandbox::Backend> backend = std::move(*made);
  const long cgroups = cgroup_children(), fds = host::open_fd_count();
  auto spec = probe({});
  spec.argv = {"/does-not-exist"};
  auto r = backend->run(spec, {}, {});
  ASSERT_FALSE(r.has_value());
  if (has_cgroup()) {
    EXPECT_EQ(cgroup_children(), cgroups);
  }
  // The docker backends' reapers (this test's and the fixture's) talk to the daemon on their
  // own threads: their connections come and go, none of them stays.
  if (containers()) {
    EXPECT_LE(host::open_fd_count(), fds);
  } else {
    EXPECT_EQ(host::open_fd_count(), fds);
  }
  EXPECT_EQ(host::dir_entries(scratch()), 0);
}

}  // namespace
}  // namespace ignite::security
