#include "core/classify.hpp"

#include <sys/wait.h>

#include <csignal>
#include <cstring>
#include <string>

#include "core/memory_thrash.hpp"

namespace ignite {

void classify(ExecutionResult& r, const RunEnd& end) {
  const auto& status = end.wait_status;
  if (status && WIFSIGNALED(*status)) r.signal = WTERMSIG(*status);
  if (status && WIFEXITED(*status)) r.exit_code = WEXITSTATUS(*status);
  switch (end.by) {
    case RunEnd::By::timeout:
      r.outcome = Outcome::wall_time_exceeded;
      r.signal = SIGKILL;
      r.detail = "wall-clock time limit exceeded";
      return;
    case RunEnd::By::blocked_syscall:
      // We killed it (SIGKILL) for a call a `kill` rule caught; report it the way the kernel's
      // own seccomp kill would look, so the status does not depend on the mechanism.
      r.outcome = Outcome::syscall_blocked;
      r.signal = SIGSYS;
      return;
    case RunEnd::By::memory_thrash:
      // The memory limit ended it, though not through the kernel's OOM killer; an exit that
      // raced our kill is the program's exit.
      if (status && WIFEXITED(*status)) break;
      r.outcome = Outcome::memory_exceeded;
      r.signal = SIGKILL;
      r.detail = std::string(kThrashKillDetail);
      return;
    case RunEnd::By::cancelled:
      r.outcome = Outcome::cancelled;
      r.signal = SIGKILL;
      r.detail = "cancelled";
      return;
    case RunEnd::By::program:
      break;
  }
  if (end.oom_killed && !(status && WIFEXITED(*status) && WEXITSTATUS(*status) == 0)) {
    r.outcome = Outcome::memory_exceeded;
    if (!r.signal) r.signal = SIGKILL;
    r.detail = "memory limit exceeded (cgroup OOM kill)";
  } else if (r.signal == SIGSYS) {
    r.outcome = Outcome::syscall_blocked;
    r.detail = "killed by SIGSYS: a forbidden system call or ABI (seccomp), or raised by the program";
  } else if (r.signal) {
    r.outcome = Outcome::signaled;
    r.detail = std::string("killed by signal ") + ::sigabbrev_np(r.signal);
  } else {
    r.outcome = Outcome::exited;
  }
}

}  // namespace ignite
