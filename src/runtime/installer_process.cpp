#include "runtime/installer_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <csignal>
#include <map>

#include "sys/c_strings.hpp"
#include "sys/child_process.hpp"
#include "sys/pipe.hpp"

extern char** environ;

namespace ignite::runtime {
namespace {

using Clock = std::chrono::steady_clock;

// Kills the child's whole process group when dropped: `make -j2` leaves compilers behind if only
// make dies, and a helper must not outlive the step that started it. Declared after the
// ChildProcess that owns the leader, so it runs while the leader is at worst a zombie and its
// pid (= the group id) cannot have been reused.
class GroupKiller {
 public:
  explicit GroupKiller(pid_t pgid) : pgid_(pgid) {}
  GroupKiller(const GroupKiller&) = delete;
  GroupKiller& operator=(const GroupKiller&) = delete;
  ~GroupKiller() { kill_now(); }
  void kill_now() {
    if (pgid_ > 0) (void)::kill(-pgid_, SIGKILL);  // ESRCH: the group is already gone
    pgid_ = -1;
  }

 private:
  pid_t pgid_;
};

// Our environment with `extra` added; a "K=V" in extra replaces an inherited K.
std::vector<std::string> merged_env(const std::vector<std::string>& extra) {
  std::map<std::string, std::string> byKey;
  auto add = [&](const std::string& kv) { byKey[kv.substr(0, kv.find('='))] = kv; };
  for (char** e = environ; *e != nullptr; ++e) add(*e);
  for (const auto& kv : extra) add(kv);
  std::vector<std::string> out;
  for (auto& [k, kv] : byKey) out.push_back(std::move(kv));
  return out;
}

// posix_spawn's attribute and file-action objects, released on every path.
struct SpawnSetup {
  posix_spawnattr_t attr{};
  posix_spawn_file_actions_t actions{};
  SpawnSetup() {
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_init(&actions);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
  ~SpawnSetup() {
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
  }
};

Result<sys::ChildProcess> spawn(const Command& cmd, const sys::Pipe& out, const sys::Pipe& err) {
  std::vector<std::string> argv_s = cmd.argv;
  std::vector<std::string> env_s = merged_env(cmd.extra_env);
  std::vector<char*> argv = sys::c_string_pointers(argv_s);
  std::vector<char*> envp = sys::c_string_pointers(env_s);
  SpawnSetup s;
  // Our main() ignores SIGPIPE; an ignored disposition survives exec, and tar or make should
  // die of a broken pipe as usual. A new process group lets us kill the whole step.
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigdefault(&s.attr, &defaults);
  posix_spawnattr_setsigmask(&s.attr, &none);
  posix_spawnattr_setpgroup(&s.attr, 0);
  posix_spawnattr_setflags(&s.attr, static_cast<short>(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK |
                                                       POSIX_SPAWN_SETPGROUP));
  posix_spawn_file_actions_addopen(&s.actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&s.actions, out.write.get(), 1);
  posix_spawn_file_actions_adddup2(&s.actions, err.write.get(), 2);
  if (!cmd.cwd.empty()) posix_spawn_file_actions_addchdir_np(&s.actions, cmd.cwd.c_str());
  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, argv[0], &s.actions, &s.attr, argv.data(), envp.data());
  if (rc != 0) return fail(Error::from_errno("start " + cmd.argv[0], rc));
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    // Without a pidfd we cannot own it; it is our direct child, so reap it the classic way.
    const int e = errno;
    (void)::kill(-pid, SIGKILL);
    int status = 0;
    (void)::waitpid(pid, &status, 0);
    return fail(Error::from_errno("pidfd_open", e));
  }
  return sys::ChildProcess(pid, sys::Fd(pidfd));
}

}  // namespace

Result<CommandOutput> run_command(const Command& cmd) {
  if (cmd.argv.empty()) return fail(ErrorCode::invalid_argument, "run_command: empty argv");
  IGNITE_TRY_ASSIGN(sys::Pipe out, sys::make_pipe());
  IGNITE_TRY_ASSIGN(sys::Pipe err, sys::make_pipe());
  IGNITE_TRY_ASSIGN(sys::ChildProcess child, spawn(cmd, out, err));
  GroupKiller group(child.pid());
  out.write.reset();  // only the child holds the write ends now: EOF means it is done writing
  err.write.reset();

  CommandOutput result;
  const std::chrono::seconds limit = cmd.timeout.count() > 0 ? cmd.timeout : Command{}.timeout;
  const auto deadline = Clock::now() + limit;
  std::array<pollfd, 3> fds{{{out.read.get(), POLLIN, 0}, {err.read.get(), POLLIN, 0},
                             {child.pidfd(), POLLIN, 0}}};
  std::array<std::string*, 2> sinks{&result.out, &result.err};
  int open_pipes = 2;
  while (open_pipes > 0 || fds[2].fd >= 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      return fail(ErrorCode::unavailable, "`" + cmd.argv[0] + "` did not finish within " +
                                              std::to_string(limit.count()) + "s");
    }
    const int n = ::poll(fds.data(), fds.size(), static_cast<int>(left.count()));
    if (n < 0 && errno != EINTR) return fail(Error::from_errno("poll"));
    for (std::size_t i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
      std::array<char, 65536> buf{};
      const ssize_t got = ::read(fds[i].fd, buf.data(), buf.size());
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) {
        fds[i].fd = -1;
        --open_pipes;
      } else if (sinks[i]->size() < kMaxCapture) {
        sinks[i]->append(buf.data(), std::min(static_cast<std::size_t>(got), kMaxCapture - sinks[i]->size()));
      }
    }
    if (fds[2].fd >= 0 && (fds[2].revents & POLLIN) != 0) {
      // The leader exited; whatever it left running in its group goes too, so the pipes close.
      group.kill_now();
      fds[2].fd = -1;
    }
  }
  IGNITE_TRY_ASSIGN(sys::ExitStatus st, child.wait());
  result.exit_code = st.exit_code.value_or(-1);
  result.signal = st.signal.value_or(0);
  return result;
}

std::string describe_failure(const Command& cmd, const CommandOutput& out, Excerpt excerpt) {
  std::string what = "`" + cmd.argv[0];
  if (cmd.argv.size() > 1) what += " " + cmd.argv[1];
  what += "` ";
  what += out.signal != 0 ? "was killed by signal " + std::to_string(out.signal)
                          : "exited with " + std::to_string(out.exit_code);
  std::string text = out.err.empty() ? out.out : out.err;
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.pop_back();
  constexpr int kLines = 4;
  if (excerpt == Excerpt::head) {
    std::size_t pos = 0;
    for (int lines = 0; lines < kLines && pos != std::string::npos; ++lines) {
      pos = text.find('\n', pos == 0 ? 0 : pos + 1);
    }
    if (pos != std::string::npos) text.resize(pos);
  } else {
    std::size_t pos = text.size();
    for (int lines = 0; lines < kLines && pos != std::string::npos && pos > 0; ++lines) {
      pos = text.rfind('\n', pos - 1);
    }
    if (pos != std::string::npos && pos < text.size()) text = text.substr(pos + 1);
  }
  return text.empty() ? what : what + ":\n" + text;
}

}  // namespace ignite::runtime
