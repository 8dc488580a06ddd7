// ChildProcess: owns a child through its pidfd; kills and reaps it if dropped before wait().
#pragma once
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <utility>

#include "core/result.hpp"
#include "sys/fd.hpp"

namespace ignite::sys {

struct ExitStatus {
  std::optional<int> exit_code;  // set when the process exited
  std::optional<int> signal;     // set when a signal killed it
  // What the process itself used over its life (the kernel's rusage of the reaped child).
  std::uint64_t peak_rss_bytes = 0;
  std::chrono::microseconds cpu{};  // user + system
};

class ChildProcess {
 public:
  ChildProcess() = default;
  ChildProcess(pid_t pid, Fd pidfd) noexcept : pid_(pid), pidfd_(std::move(pidfd)) {}
  ChildProcess(ChildProcess&& other) noexcept
      : pid_(std::exchange(other.pid_, -1)), pidfd_(std::move(other.pidfd_)) {}
  ChildProcess& operator=(ChildProcess&&) = delete;  // keep ownership transfers explicit
  ChildProcess(const ChildProcess&) = delete;
  ~ChildProcess();  // SIGKILL + reap if still owned

  explicit operator bool() const noexcept { return pid_ > 0; }
  pid_t pid() const noexcept { return pid_; }
  int pidfd() const noexcept { return pidfd_.get(); }  // pollable: readable once it exits

  Status send_signal(int sig) const;  // pidfd_send_signal(2): no PID-reuse races
  // waitid(P_PIDFD); blocks until exit, releases ownership. Fails only on a syscall error.
  Result<ExitStatus> wait();

 private:
  pid_t pid_ = -1;  // -1 once reaped or moved from
  Fd pidfd_;
};

}  // namespace ignite::sys
