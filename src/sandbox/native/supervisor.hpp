// Supervisor: watches one sandboxed run with epoll (exit via pidfd, output pipes with caps,
// stdin, exec notification, wall clock, cancellation, a memory thrash watch) until the sandbox's
// init exits.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>
#include <vector>

#include "core/memory_thrash.hpp"
#include "core/result.hpp"
#include "sandbox/backend.hpp"
#include "sandbox/native/child.hpp"
#include "sys/child_process.hpp"
#include "sys/fd.hpp"

namespace ignite::sandbox::native {

// Something else the loop serves while the run lasts (the egress proxy): its fd is watched with
// the others, and service() runs whenever it is readable. service() must not block for long.
class EventSource {
 public:
  virtual ~EventSource() = default;
  virtual int fd() const = 0;
  virtual void service() = 0;
};

struct SupervisedFds {
  const sys::ChildProcess* init = nullptr;
  sys::Fd exec_read;    // EOF when the program has called execve; none: it runs already (warm)
  sys::Fd stdout_read;
  sys::Fd stderr_read;
  sys::Fd stdin_write;  // closed once stdin_data is written
  sys::Fd notify_read;  // unix socket: the program sends its seccomp listener fd here (optional)
  sys::Fd report_read;  // init's ChildReport records
  EventSource* extra = nullptr;  // optional
  // Called once before the loop kills init (timeout, cancellation, a blocked call): the docker
  // backend reads its container's counters there, before the container and its cgroup go.
  std::function<void()> before_kill;
  // Sampled every kThrashWatchEvery while the program runs: a run thrashing at its memory limit
  // without an OOM kill coming is killed, as over its limit (optional).
  std::optional<ThrashWatch> thrash;
};

struct SupervisionLimits {
  std::chrono::milliseconds wall_time{};
  std::chrono::milliseconds setup_time{10000};  // for our own setup, before execve
  std::uint64_t max_output_bytes = 0;
};

enum class StopReason { exited, timeout, cancelled, setup_timeout, syscall_blocked, memory_thrash };

// A system call the policy kills for, as the seccomp listener reported it.
struct BlockedCall {
  int nr = -1;
  std::uint32_t arch = 0;  // AUDIT_ARCH_* of the calling ABI
};

struct Supervision {
  StopReason reason = StopReason::exited;
  // Init's records; the last one is `finished` once the program has exited.
  std::vector<ChildReport> reports;
  // False when the loop ended at the program's exit (its output complete) while init was still
  // tearing the sandbox down: reaping init is then the slot's destructor's business.
  bool init_exited = false;
  bool exec_seen = false;
  std::chrono::steady_clock::time_point exec_at{};
  std::chrono::steady_clock::time_point exit_at{};
  std::string stdout_data, stderr_data;
  bool stdout_truncated = false, stderr_truncated = false;
  std::optional<BlockedCall> blocked;  // set with reason syscall_blocked
};

// Appends the complete records waiting in init's report pipe (each is one atomic pipe write).
// Returns false at EOF (or error): all of them have been read.
bool read_reports(int fd, std::vector<ChildReport>& out);

// Runs until the program has exited and its output is complete (both pipes at EOF), or until
// init exits (killing it on timeout or cancellation). Ending at the program's exit keeps the
// sandbox's teardown (init unmounting the whole tree as its namespace goes) out of the run's
// time. Fails only when epoll itself fails.
Result<Supervision> supervise(SupervisedFds fds, const std::string& stdin_data,
                              const SupervisionLimits& limits, std::stop_token stop,
                              const OutputSink& sink);

}  // namespace ignite::sandbox::native
