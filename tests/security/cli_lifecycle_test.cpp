// CLI lifecycle: however `ignite run`/`ignite exec` ends, its program does not outlive it. A
// SIGKILLed CLI takes the sandbox with it (init's parent-death signal); SIGTERM/SIGINT cancel
// the run, which cleans up like any other run and exits 128 + the signal.
#include <fcntl.h>
#include <poll.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <optional>
#include <regex>

#include "sandbox/native/cgroup_layout.hpp"
#include "sandbox/native/native_backend.hpp"
#include "sandbox_fixture.hpp"
#include "sys/fd.hpp"
#include "sys/files.hpp"

extern char** environ;

namespace ignite::security {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Ms = std::chrono::milliseconds;

IGNITE_SECURITY_SUITE(CliLifecycle);

// Waits until `fd` is readable (a pidfd: the process exited). False on timeout.
bool readable_within(int fd, Ms timeout) {
  pollfd p{fd, POLLIN, 0};
  return ::poll(&p, 1, static_cast<int>(timeout.count())) == 1;
}

sys::Fd pidfd_of(pid_t pid) { return sys::Fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0))); }

// The built `ignite` with args, stdin /dev/null, stdout and stderr on pipes.
class Cli {
 public:
  Cli(const std::vector<std::string>& args, const std::vector<std::string>& extra_env) {
    std::vector<std::string> argv{IGNITE_BIN};
    argv.insert(argv.end(), args.begin(), args.end());
    std::vector<std::string> env(extra_env);
    for (char** e = environ; *e; ++e) env.emplace_back(*e);  // earlier entries win in getenv
    std::vector<char*> av, ev;
    for (auto& a : argv) av.push_back(a.data());
    for (auto& e : env) ev.push_back(e.data());
    av.push_back(nullptr);
    ev.push_back(nullptr);
    int out[2], err[2];
    if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      int devnull = ::open("/dev/null", O_RDONLY);
      ::dup2(devnull, 0);
      ::dup2(out[1], 1);
      ::dup2(err[1], 2);
      ::execve(av[0], av.data(), ev.data());
      ::_exit(127);
    }
    ::close(out[1]);
    ::close(err[1]);
    out_.reset(out[0]);
    err_.reset(err[0]);
    pidfd_ = pidfd_of(pid_);
  }
  ~Cli() {
    if (pid_ > 0 && !status_) {
      ::kill(pid_, SIGKILL);
      (void)wait(10s);
    }
  }
  Cli(const Cli&) = delete;
  Cli& operator=(const Cli&) = delete;

  pid_t pid() const { return pid_; }

  // Reads stdout until `needle` appears; false on EOF or timeout.
  bool read_until(const std::string& needle, Ms timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (stdout_.find(needle) == std::string::npos) {
      const auto left = std::chrono::duration_cast<Ms>(deadline - std::chrono::steady_clock::now());
      if (left <= 0ms || !readable_within(out_.get(), left)) return false;
      char buf[4096];
      ssize_t n = ::read(out_.get(), buf, sizeof buf);
      if (n <= 0) return false;
      stdout_.append(buf, static_cast<std::size_t>(n));
    }
    return true;
  }

  // The exit code (128 + N if killed by signal N), or nullopt if it did not exit in time.
  std::optional<int> wait(Ms timeout) {
    if (!status_ && readable_within(pidfd_.get(), timeout)) {
      int st = 0;
      if (::waitpid(pid_, &st, 0) == pid_)
        status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    }
    return status_;
  }

  // Everything on stdout/stderr, once it has exited.
  std::string out() {
    drain(out_.get(), stdout_);
    return stdout_;
  }
  std::string err() {
    drain(err_.get(), stderr_);
    return stderr_;
  }

 private:
  static void drain(int fd, std::string& into) {
    char buf[4096];
    ssize_t n;
    while (readable_within(fd, 1000ms) && (n = ::read(fd, buf, sizeof buf)) > 0)
      into.append(buf, static_cast<std::size_t>(n));
  }

  pid_t pid_ = -1;
  sys::Fd out_, err_, pidfd_;
  std::optional<int> status_;
  std::string stdout_, stderr_;
};

// A Python program that re-executes itself with `token` in its argv (so the host can find it,
// while the CLI's own argv does not contain it), prints "ready" and sleeps for `sleep_s`.
std::string sleeper(const std::string& token, int sleep_s) {
  std::string reversed(token.rbegin(), token.rend());
  return "import os, sys, time\n"
         "if len(sys.argv) < 2:\n"
         "    os.execv(sys.executable, [sys.executable, '/app/main.py', '" +
         reversed +
         "'[::-1]])\n"
         "print('ready', flush=True)\n"
         "time.sleep(" +
         std::to_string(sleep_s) + ")\n";
}

// Whether stderr's last line is `line` (a degraded run logs a warning before it). `line` starts
// with "\n"; so may the text, for the comparison.
bool ends_with(std::string text, const std::string& line) {
  text.insert(0, "\n");
  return text.size() >= line.size() &&
         text.compare(text.size() - line.size(), line.size(), line) == 0;
}

// Kills whatever a failed test left running.
void kill_leftovers(const std::string& token) {
  for (int pid : host::processes_with(token)) ::kill(pid, SIGKILL);
}

// The run's cgroup name, "<instance id>.run-XXXXXX" (sys::Instance::tag of its scratch dir's
// name), from a process's cgroup membership.
std::string run_name_of(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/cgroup");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::smatch m;
  return std::regex_search(text, m, std::regex("i[0-9]+-[0-9a-f]+\\.run-[A-Za-z0-9]+")) ? m.str() : "";
}

// The run's cgroup directories (every v1 hierarchy, or the v2 one), as Cgroup::create names them.
std::vector<fs::path> run_cgroup_dirs(const std::string& name) {
  auto layout = sandbox::native::detect_cgroups();
  std::vector<fs::path> dirs;
  if (layout.version == sandbox::native::CgroupVersion::v2)
    dirs.push_back(layout.v2_base / "ignite" / name);
  for (const auto& [controller, dir] : layout.v1_base) dirs.push_back(dir / name);
  return dirs;
}

// What a run leaves on the host until it is cleaned up: its scratch dir and cgroups.
struct RunTrace {
  fs::path scratch;
  std::vector<fs::path> cgroups;
};

// `ignite run` on a service whose program sleeps 10 minutes (a timeout the test must not wait
// for). Rootless, the CLI gets a private runtime dir, so its scratch area is this test's alone.
class CliRun {
 public:
  CliRun(const fs::path& work, const std::string& token, bool rootless)
      : dir_(work / "cli-service"), scratch_root_(sandbox::native::NativeConfig{}.scratch_root) {
    fs::create_directories(dir_);
    EXPECT_TRUE(sys::write_new_file(dir_ / "main.py", sleeper(token, 600)).has_value());
    EXPECT_TRUE(
        sys::write_new_file(dir_ / "service.yaml",
                            "service:\n  name: cli-sleeper\n  runtime: python\n  entry: main.py\n"
                            "  memoryMb: 64\n  timeoutMs: 600000\n")
            .has_value());
    args_ = {"run", dir_.string()};
    if (rootless) {
      const fs::path xdg = work / "xdg";
      fs::create_directories(xdg);
      fs::permissions(xdg, fs::perms::owner_all);
      env_.push_back("XDG_RUNTIME_DIR=" + xdg.string());
      scratch_root_ = xdg / "ignite";
      args_.emplace_back("--allow-degraded");
    }
  }
  const std::vector<std::string>& args() const { return args_; }
  const std::vector<std::string>& env() const { return env_; }

  // The running program's scratch dir and cgroups, by the name they share (root: other Ignite
  // processes on the host use the same scratch root, so the name is read from the program's
  // cgroup; rootless: the only run-* in the private scratch root).
  RunTrace trace(int program, bool with_cgroup) const {
    RunTrace t;
    if (with_cgroup) {
      const std::string name = run_name_of(program);
      EXPECT_FALSE(name.empty()) << "no run-* cgroup for the program";
      if (name.empty()) return t;
      // The scratch dir lives in its instance's private dir: <runtime>/instances/<id>/run-XXXXXX.
      const auto dot = name.find('.');
      t.scratch = scratch_root_ / "instances" / name.substr(0, dot) / name.substr(dot + 1);
      for (const auto& d : run_cgroup_dirs(name)) {
        if (fs::exists(d)) t.cgroups.push_back(d);
      }
      EXPECT_FALSE(t.cgroups.empty()) << "the run's cgroup was not found where the test looks";
    } else {
      std::error_code ec;
      for (const auto& inst : fs::directory_iterator(scratch_root_ / "instances", ec)) {
        for (const auto& e : fs::directory_iterator(inst.path(), ec)) {
          if (e.path().filename().string().rfind("run-", 0) == 0) t.scratch = e.path();
        }
      }
    }
    EXPECT_TRUE(!t.scratch.empty() && fs::exists(t.scratch))
        << "the run's scratch dir was not found: " << t.scratch;
    return t;
  }

 private:
  fs::path dir_, scratch_root_;
  std::vector<std::string> args_, env_;
};

// These drive `ignite run`/`exec` on the native backend whatever the case; the CLI's microvm
// lifecycle (kill -9 mid-run, the next ignite collecting the VM's dir) is the e2e test's.
constexpr const char* kMicroVmCli =
    "the microvm CLI lifecycle is MicroVmIsolation.kill_9_of_ignite_mid_run_leaves_no_qemu_and_the_next_ignite_collects_its_dir";

TEST_P(CliLifecycle, killing_ignite_run_kills_the_program) {
  if (vm()) GTEST_SKIP() << kMicroVmCli;
  CliRun service(work(), token(), rootless());
  Cli cli(service.args(), service.env());
  ASSERT_TRUE(cli.read_until("ready\n", 60s)) << cli.err();
  auto pids = host::processes_with(token());
  ASSERT_EQ(pids.size(), 1u) << "the program, found by the token in its argv";
  sys::Fd program = pidfd_of(pids[0]);
  ASSERT_TRUE(program);
  const RunTrace trace = service.trace(pids[0], has_cgroup());

  ASSERT_EQ(::kill(cli.pid(), SIGKILL), 0);
  EXPECT_EQ(cli.wait(10s), 128 + SIGKILL);
  // The program's timeout is 10 minutes away and nobody is left to enforce it: only init's
  // parent-death signal ends it.
  EXPECT_TRUE(readable_within(program.get(), 1000ms))
      << "the program outlived a SIGKILLed ignite run";
  EXPECT_TRUE(host::processes_with(token()).empty());
  kill_leftovers(token());
  // A SIGKILLed Ignite cannot clean up (collecting its remains is a start-up job), so the test
  // does: the cgroups are empty now, the scratch dir holds only the empty mount point dir.
  for (const auto& d : trace.cgroups) ::rmdir(d.c_str());
  std::error_code ec;
  if (!trace.scratch.empty()) fs::remove_all(trace.scratch, ec);
}

TEST_P(CliLifecycle, sigterm_to_ignite_run_cancels_and_cleans_up) {
  if (vm()) GTEST_SKIP() << kMicroVmCli;
  CliRun service(work(), token(), rootless());
  Cli cli(service.args(), service.env());
  ASSERT_TRUE(cli.read_until("ready\n", 60s)) << cli.err();
  auto pids = host::processes_with(token());
  ASSERT_EQ(pids.size(), 1u);
  const RunTrace trace = service.trace(pids[0], has_cgroup());
  ASSERT_FALSE(trace.scratch.empty());

  ASSERT_EQ(::kill(cli.pid(), SIGTERM), 0);
  EXPECT_EQ(cli.wait(10s), 128 + SIGTERM);
  EXPECT_TRUE(ends_with(cli.err(), "\nignite: cancelled by SIGTERM\n")) << cli.err();
  EXPECT_TRUE(host::processes_with(token()).empty());
  EXPECT_FALSE(fs::exists(trace.scratch)) << trace.scratch;
  for (const auto& d : trace.cgroups) EXPECT_FALSE(fs::exists(d)) << d;
  kill_leftovers(token());
}

// The same for `ignite exec` and SIGINT (Ctrl-C), with --json: the document says "cancelled".
TEST_P(CliLifecycle, sigint_to_ignite_exec_cancels_with_130) {
  if (vm()) GTEST_SKIP() << kMicroVmCli;
  std::vector<std::string> args{"exec",      "--runtime", "python", "--code", sleeper(token(), 600),
                                "--timeout", "600000",    "--json"};
  if (rootless()) args.emplace_back("--allow-degraded");
  Cli cli(args, {});
  // --json: the program's output goes into the document, so wait for the program itself.
  const auto deadline = std::chrono::steady_clock::now() + 60s;
  while (host::processes_with(token()).empty() && std::chrono::steady_clock::now() < deadline)
    ASSERT_FALSE(cli.wait(50ms)) << cli.err();
  ASSERT_FALSE(host::processes_with(token()).empty()) << cli.err();

  ASSERT_EQ(::kill(cli.pid(), SIGINT), 0);
  EXPECT_EQ(cli.wait(10s), 128 + SIGINT);
  EXPECT_TRUE(contains(cli.out(), "\"status\":\"cancelled\"")) << cli.out();
  EXPECT_TRUE(ends_with(cli.err(), "\nignite: cancelled by SIGINT\n")) << cli.err();
  EXPECT_TRUE(host::processes_with(token()).empty());
  kill_leftovers(token());
}

}  // namespace
}  // namespace ignite::security
