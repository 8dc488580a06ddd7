// The native backend against the real kernel: every promise of the foundation issue, each in a
// test that fails if the mechanism behind it is removed.
#include <signal.h>
#include <sys/syscall.h>

#include <chrono>
#include <cstdint>
#include <fstream>
#include <sstream>

#include "../common/loopback_listener.hpp"
#include "../common/probe_spec.hpp"
#include "native_fixture.hpp"
#include "sandbox/native/cgroup_layout.hpp"

namespace ignite::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

}  // namespace

void NativeTest::SetUpTestSuite() {
  if (::geteuid() != 0) {
    skip_reason_ = "needs root (rootless mode is covered by the security issue)";
    return;
  }
  scratch_ = fs::temp_directory_path() / ("ignite-it-" + std::to_string(::getpid()));
  sandbox::native::NativeConfig cfg;
  cfg.scratch_root = scratch_;
  auto b = sandbox::native::make_native_backend(cfg);
  if (!b) {
    skip_reason_ = "native backend unavailable on this host: " + b.error().message;
    return;
  }
  backend_ = std::move(*b);
}

std::set<std::string> OwnBackendTest::run_dirs() const {
  std::set<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root_, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("run-", 0) == 0) names.insert(name);
  }
  return names;
}

bool OwnBackendTest::mounted_under_root() const {
  std::ifstream in("/proc/self/mounts");
  std::stringstream mounts;
  mounts << in.rdbuf();
  return mounts.str().find(root_.string()) != std::string::npos;
}

std::vector<fs::path> OwnBackendTest::run_cgroups(const std::string& run) {
  std::vector<fs::path> dirs;
  const auto layout = sandbox::native::detect_cgroups("/proc");
  if (layout.version == sandbox::native::CgroupVersion::v2) dirs.push_back(layout.v2_base / "ignite" / run);
  for (const auto& [controller, dir] : layout.v1_base) dirs.push_back(dir / run);
  return dirs;
}

SandboxSpec NativeTest::probe_spec(std::vector<std::string> args) {
  return testing::probe_spec(std::move(args));
}

ExecutionResult NativeTest::expect_ok(Result<ExecutionResult> r) {
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
  return r ? std::move(*r) : ExecutionResult{};
}

std::vector<int> NativeTest::sandbox_processes(unsigned first, unsigned count) {
  std::vector<int> pids;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc", ec)) {
    std::ifstream status(e.path() / "status");
    std::string line;
    bool zombie = false;
    while (std::getline(status, line)) {
      // A zombie is dead, waiting for its parent to collect it: an init whose server was
      // SIGKILLed (an earlier test) is collected by the host's init, in its own time.
      if (line.rfind("State:", 0) == 0) zombie = line.find("Z (zombie)") != std::string::npos;
      unsigned uid = 0;
      if (!zombie && std::sscanf(line.c_str(), "Uid: %u", &uid) == 1 && uid >= first && uid < first + count)
        pids.push_back(std::stoi(e.path().filename()));
    }
  }
  return pids;
}

namespace {

// The kernel's struct sigaction (x86_64, arm64), for signal 33, which glibc's sigaction refuses.
struct KernelSigaction {
  void (*handler)(int);
  unsigned long flags;
  void (*restorer)();
  std::uint64_t mask;
};

// The supervisor ignores SIGPIPE (`ignite` does) and blocks signals on its threads, and what
// started it may have left ignored even the signals glibc keeps for itself (32, 33: a CI
// runner did); none of it reaches the program, whose dispositions and mask are the defaults.
TEST_F(NativeTest, the_program_starts_with_no_signal_ignored_or_blocked) {
  struct sigaction ign {}, old_pipe {}, old_usr1 {};
  ign.sa_handler = SIG_IGN;
  ASSERT_EQ(::sigaction(SIGPIPE, &ign, &old_pipe), 0);
  ASSERT_EQ(::sigaction(SIGUSR1, &ign, &old_usr1), 0);
  KernelSigaction ign33{SIG_IGN, 0, nullptr, 0}, old33{};
  ASSERT_EQ(::syscall(SYS_rt_sigaction, 33, &ign33, &old33, sizeof old33.mask), 0);
  sigset_t usr2, old_mask;
  sigemptyset(&usr2);
  sigaddset(&usr2, SIGUSR2);
  ASSERT_EQ(::pthread_sigmask(SIG_BLOCK, &usr2, &old_mask), 0);
  const ExecutionResult r = run_ok(probe_spec({"read", "/proc/self/status"}));
  ::pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  ::syscall(SYS_rt_sigaction, 33, &old33, nullptr, sizeof old33.mask);
  ::sigaction(SIGPIPE, &old_pipe, nullptr);
  ::sigaction(SIGUSR1, &old_usr1, nullptr);
  ASSERT_EQ(r.exit_code, 0) << r.stderr_data;
  EXPECT_NE(r.stdout_data.find("\nSigIgn:\t0000000000000000\n"), std::string::npos) << r.stdout_data;
  EXPECT_NE(r.stdout_data.find("\nSigBlk:\t0000000000000000\n"), std::string::npos) << r.stdout_data;
}

TEST_F(NativeTest, exit_code_and_output_are_returned) {
  auto r = run_ok(probe_spec({"exit", "7"}));
  EXPECT_EQ(r.outcome, Outcome::exited);
  EXPECT_EQ(r.exit_code, 7);
  auto id = run_ok(probe_spec({"id"}));
  EXPECT_EQ(id.exit_code, 0);
  unsigned uid = 0, gid = 0;
  ASSERT_EQ(std::sscanf(id.stdout_data.c_str(), "uid=%u gid=%u pid=2", &uid, &gid), 2) << id.stdout_data;
  EXPECT_GE(uid, 60000u);
  EXPECT_EQ(uid, gid);
}

TEST_F(NativeTest, memory_over_the_limit_is_memory_limit) {
  auto r = run_ok(probe_spec({"alloc", "200"}));
  EXPECT_EQ(r.outcome, Outcome::memory_exceeded) << r.stdout_data << r.detail;
  EXPECT_EQ(cli_exit_code(r.outcome, r.exit_code, r.signal), 137);
  EXPECT_EQ(status_name(r.outcome, r.exit_code), "memory_limit");
  EXPECT_GE(r.usage.peak_memory_bytes, 60ull << 20);
  EXPECT_LE(r.usage.peak_memory_bytes, 65ull << 20);
}

TEST_F(NativeTest, memory_within_the_limit_is_measured) {
  auto r = run_ok(probe_spec({"alloc", "20"}));
  EXPECT_EQ(r.outcome, Outcome::exited);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_GE(r.usage.peak_memory_bytes, 20ull << 20);
  EXPECT_LT(r.usage.peak_memory_bytes, 40ull << 20);
  EXPECT_GT(r.usage.cpu.count(), 0);
}

TEST_F(NativeTest, sleeping_past_the_timeout_is_killed_in_time) {
  auto spec = probe_spec({"sleep", "60000"});
  spec.limits.wall_time = 500ms;
  auto t0 = std::chrono::steady_clock::now();
  auto r = run_ok(spec);
  auto elapsed = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(r.outcome, Outcome::wall_time_exceeded);
  EXPECT_EQ(cli_exit_code(r.outcome, r.exit_code, r.signal), 124);
  EXPECT_LT(elapsed, 500ms + 500ms);
  EXPECT_GE(r.usage.wall, 500ms);
}

TEST_F(NativeTest, fork_bomb_is_contained_by_pids_limit) {
  auto spec = probe_spec({"forkbomb"});
  spec.limits.wall_time = 3s;
  auto r = run_ok(spec);
  EXPECT_LE(r.usage.pids_peak, 32u);
  EXPECT_GT(r.usage.pids_peak, 10u);
  EXPECT_NE(r.stdout_data.find("fork failures: 1000"), std::string::npos) << r.stdout_data;
  // The host stays responsive: a fresh run right after works and is quick.
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(run_ok(probe_spec({"exit", "0"})).exit_code, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
  EXPECT_TRUE(sandbox_processes().empty());
}

TEST_F(NativeTest, stdout_flood_is_capped_and_flagged) {
  auto spec = probe_spec({"flood", "5000000"});
  spec.limits.max_output_bytes = 1 << 20;
  auto r = run_ok(spec);
  EXPECT_EQ(r.outcome, Outcome::exited);
  EXPECT_EQ(r.stdout_data.size(), 1u << 20);
  EXPECT_TRUE(r.stdout_truncated);
  EXPECT_FALSE(r.stderr_truncated);
  auto err = run_ok(probe_spec({"flood", "3000000", "err"}));
  EXPECT_TRUE(err.stderr_truncated);
}

TEST_F(NativeTest, network_connect_fails) {
  // A real listener on the host's loopback: the sandbox must not reach it.
  LoopbackListener listener;
  ASSERT_TRUE(listener.ok());
  auto r = run_ok(probe_spec({"connect", "127.0.0.1", listener.port()}));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.stdout_data.find("connect: Network is unreachable"), std::string::npos) << r.stdout_data;
}

TEST_F(NativeTest, host_files_are_invisible) {
  auto shadow = run_ok(probe_spec({"read", "/etc/shadow"}));
  EXPECT_EQ(shadow.exit_code, 1);
  EXPECT_NE(shadow.stdout_data.find("No such file"), std::string::npos) << shadow.stdout_data;
  auto root = run_ok(probe_spec({"ls", "/"}));
  EXPECT_EQ(root.stdout_data.find("root\n"), std::string::npos) << root.stdout_data;
  EXPECT_EQ(root.stdout_data.find("home\n"), std::string::npos) << root.stdout_data;
  EXPECT_EQ(root.stdout_data.find("sys\n"), std::string::npos) << root.stdout_data;
  auto write = run_ok(probe_spec({"write", "/probe-was-here"}));
  EXPECT_NE(write.stdout_data.find("Read-only file system"), std::string::npos) << write.stdout_data;
  auto tmp = run_ok(probe_spec({"write", "/tmp/ok"}));
  EXPECT_EQ(tmp.stdout_data, "written\n");
}

TEST_F(NativeTest, host_processes_are_invisible) {
  auto r = run_ok(probe_spec({"ls", "/proc"}));
  int pids = 0;
  std::istringstream in(r.stdout_data);
  std::string name;
  while (in >> name) {
    if (std::isdigit(static_cast<unsigned char>(name[0]))) ++pids;
  }
  EXPECT_EQ(pids, 2) << r.stdout_data;  // the sandbox's init and the probe itself
  // Kernel-wide /proc files are masked (empty) where the kernel has them at all.
  for (const char* f : {"/proc/kcore", "/proc/keys", "/proc/timer_list", "/proc/kallsyms"}) {
    auto masked = run_ok(probe_spec({"read", f}));
    if (fs::exists(f)) {
      EXPECT_EQ(masked.stdout_data, "") << f;
    }
  }
}

TEST_F(NativeTest, host_environment_is_invisible) {
  ::setenv("IGNITE_HOST_SECRET", "leak", 1);
  auto r = run_ok(probe_spec({"env"}));
  EXPECT_EQ(r.stdout_data.find("IGNITE_HOST_SECRET"), std::string::npos);
  EXPECT_NE(r.stdout_data.find("MARKER=inside"), std::string::npos);
  std::istringstream in(r.stdout_data);
  std::string line;
  int count = 0;
  while (std::getline(in, line)) ++count;
  EXPECT_EQ(count, 3) << r.stdout_data;
  auto host = run_ok(probe_spec({"hostname"}));
  EXPECT_EQ(host.stdout_data, "ignite\n");
}

TEST_F(NativeTest, double_forked_daemon_does_not_outlive_the_run) {
  auto r = run_ok(probe_spec({"daemon"}));
  EXPECT_EQ(r.stdout_data, "daemonized\n");
  EXPECT_TRUE(sandbox_processes().empty());
  auto slow = probe_spec({"daemon"});
  EXPECT_EQ(run_ok(slow).exit_code, 0);
  EXPECT_TRUE(sandbox_processes().empty());
}

TEST_F(NativeTest, blocked_syscalls_fail_with_eperm) {
  auto r = run_ok(probe_spec({"syscall", std::to_string(SYS_ptrace)}));
  EXPECT_NE(r.stdout_data.find("Operation not permitted"), std::string::npos) << r.stdout_data;
  auto u = run_ok(probe_spec({"syscall", std::to_string(SYS_unshare)}));
  EXPECT_NE(u.stdout_data.find("Operation not permitted"), std::string::npos) << u.stdout_data;
}

TEST_F(NativeTest, the_32_bit_abi_is_killed_as_syscall_blocked) {
  if (!ignite::testing::kernel_runs_i386_syscalls())
    GTEST_SKIP() << "this kernel has no i386 ABI (int 0x80 is SIGSEGV on the host too): nothing for seccomp to kill";
  auto r = run_ok(probe_spec({"int80"}));
  EXPECT_EQ(r.outcome, Outcome::syscall_blocked) << r.stdout_data << r.detail;
  EXPECT_EQ(r.signal, SIGSYS);
  EXPECT_EQ(r.stdout_data, "");
}

TEST_F(NativeTest, stdin_is_delivered) {
  auto spec = probe_spec({"stdin"});
  spec.stdin_data = std::string(300000, 'a');
  auto r = run_ok(spec);
  EXPECT_EQ(r.stdout_data, "stdin bytes=300000\n");
}

TEST_F(NativeTest, cancellation_kills_the_run) {
  std::stop_source stop;
  stop.request_stop();
  auto r = backend_->run(probe_spec({"sleep", "60000"}), stop.get_token(), {});
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r->outcome, Outcome::cancelled);
}

TEST_F(NativeTest, a_missing_program_is_an_error_not_a_result) {
  auto spec = probe_spec({});
  spec.argv = {"/does-not-exist"};
  auto r = run(spec);
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("execve"), std::string::npos) << r.error().message;
}

TEST_F(NativeTest, nothing_is_left_behind_after_100_runs) {
  auto layout = sandbox::native::detect_cgroups();
  auto count = [](const fs::path& dir) {
    std::error_code ec;
    std::size_t n = 0;
    for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::directory_iterator(); ++it)
      if (it->is_directory()) ++n;
    return n;
  };
  fs::path cg = layout.version == sandbox::native::CgroupVersion::v1 ? layout.v1_base["memory"]
                                                                     : layout.v2_base / "ignite";
  const auto cg_before = count(cg);
  auto mount_lines = [] {
    std::ifstream in("/proc/self/mountinfo");
    return std::count(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>(), '\n');
  };
  auto open_fds = [] {
    return std::distance(fs::directory_iterator("/proc/self/fd"), fs::directory_iterator());
  };
  const auto mounts_before = mount_lines();
  const auto fds_before = open_fds();
  for (int i = 0; i < 100; ++i) {
    auto r = run_ok(probe_spec({i % 2 ? "daemon" : "exit", "0"}));
    ASSERT_EQ(r.exit_code, 0);
  }
  EXPECT_EQ(count(cg), cg_before);
  EXPECT_EQ(mount_lines(), mounts_before);
  EXPECT_EQ(open_fds(), fds_before);
  EXPECT_EQ(count(scratch_root()), 0u);
  EXPECT_TRUE(sandbox_processes().empty());
}

// Every run's init executes ignite-sandbox-init as root before dropping anything: a copy that
// another user could replace is refused when the backend is made, as is one that is missing or
// not executable; an intact copy is accepted.
TEST_F(NativeTest, a_sandbox_init_others_could_replace_is_refused) {
  const fs::path dir = scratch_root().parent_path() / ("ignite-init-check-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path copy = dir / "ignite-sandbox-init";
  fs::copy_file(std::getenv("IGNITE_SANDBOX_INIT"), copy, fs::copy_options::overwrite_existing);
  auto make = [&](const fs::path& init) {
    sandbox::native::NativeConfig cfg;
    cfg.scratch_root = dir / "scratch";
    cfg.init_binary = init;
    return sandbox::native::make_native_backend(cfg);
  };
  fs::permissions(copy, fs::perms(0755));
  EXPECT_TRUE(make(copy).has_value());
  fs::permissions(copy, fs::perms(0775));
  auto group_writable = make(copy);
  ASSERT_FALSE(group_writable.has_value());
  EXPECT_EQ(group_writable.error().code, ErrorCode::permission_denied);
  EXPECT_NE(group_writable.error().message.find("0775"), std::string::npos) << group_writable.error().message;
  fs::permissions(copy, fs::perms(0644));
  EXPECT_FALSE(make(copy).has_value());
  EXPECT_FALSE(make(dir / "missing").has_value());
  fs::remove_all(dir);
}

}  // namespace
}  // namespace ignite::testing
