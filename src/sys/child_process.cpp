#include "sys/child_process.hpp"

#include <sys/resource.h>
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
  rusage usage{};
  // The raw call: its fifth argument (glibc's waitid has none) is the reaped child's rusage.
  for (;;) {
    if (::syscall(SYS_waitid, P_PIDFD, pidfd_.get(), &info, WEXITED, &usage) == 0) break;
    if (errno != EINTR) return fail(Error::from_errno("waitid"));
  }
  pid_ = -1;
  pidfd_.reset();
  ExitStatus st;
  st.peak_rss_bytes = static_cast<std::uint64_t>(usage.ru_maxrss) * 1024;  // ru_maxrss is in KiB
  const auto us = [](const timeval& t) { return std::chrono::seconds(t.tv_sec) + std::chrono::microseconds(t.tv_usec); };
  st.cpu = us(usage.ru_utime) + us(usage.ru_stime);
  if (info.si_code == CLD_EXITED) {
    st.exit_code = info.si_status;
  } else {
    st.signal = info.si_status;
  }
  return st;
}

}  // namespace ignite::sys
