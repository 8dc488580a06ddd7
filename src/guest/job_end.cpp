#include "guest/job_end.hpp"

#include <signal.h>
#include <sys/wait.h>

#include <string>

#include "core/memory_thrash.hpp"

namespace ignite::guest {

void classify_job_end(const JobEnd& end, ResultMessage& result) {
  const auto& status = end.wait_status;
  result.exit_code = status && WIFEXITED(*status) ? WEXITSTATUS(*status) : 0;
  result.signal = status && WIFSIGNALED(*status) ? WTERMSIG(*status) : 0;
  if (end.blocked) {
    // Reported the way the kernel's own seccomp kill would look (core/classify.cpp).
    result.outcome = "syscall_blocked";
    result.exit_code = 0;
    result.signal = SIGSYS;
    result.blocked_nr = end.blocked->first;
    result.blocked_arch = end.blocked->second;
    return;
  }
  // A program that exited by itself in the moment the agent's kill was on its way is its exit.
  if (end.killed_thrashing && !(status && WIFEXITED(*status))) {
    result.outcome = "memory_exceeded";
    result.signal = SIGKILL;
    result.detail = std::string(kThrashKillDetail);
  } else if (end.killed_at_deadline && end.oom_kill_before_deadline) {
    result.outcome = "memory_exceeded";
    result.signal = SIGKILL;
    result.detail = "memory limit exceeded (cgroup OOM kill before the deadline)";
  } else if (end.killed_at_deadline) {
    result.outcome = "wall_time_exceeded";
    result.signal = SIGKILL;
    result.exit_code = 0;
  } else if (status && WIFEXITED(*status)) {
    result.outcome = "exited";
  } else if (result.signal == SIGKILL && end.oom_kills > 0) {
    result.outcome = "memory_exceeded";
    result.detail = "memory limit exceeded (cgroup OOM kill)";
  } else {
    result.outcome = "signaled";
  }
}

}  // namespace ignite::guest
