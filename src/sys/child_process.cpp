#include "sys/child_process.hpp"

#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>

namespace ignite::sys {

ChildProcess::~ChildProcess() {
  if (pid_ <= 0) return;
  (void)send_signal(SIGKILL);
  (void)wait();
}

Status ChildProcess::send_signal(int sig) const {
  if (pid_ <= 0) return fail(ErrorCode::invalid_argument, "signal: no process");
  if (::syscall(SYS_pidfd_send_signal, pidfd_.get(), sig, nullptr, 0) != 0 && errno != ESRCH)
    return fail(Error::from_errno("pidfd_send_signal"));
  return ok();
}

Result<ExitStatus> ChildProcess::wait() {
  siginfo_t info{};
  for (;;) {
    if (::waitid(static_cast<idtype_t>(P_PIDFD), static_cast<id_t>(pidfd_.get()), &info, WEXITED) == 0)
      break;
    if (errno != EINTR) return fail(Error::from_errno("waitid"));
  }
  pid_ = -1;
  pidfd_.reset();
  ExitStatus st;
  if (info.si_code == CLD_EXITED) {
    st.exit_code = info.si_status;
  } else {
    st.signal = info.si_status;
  }
  return st;
}

}  // namespace ignite::sys
