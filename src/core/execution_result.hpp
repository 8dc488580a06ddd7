// ExecutionResult: what the untrusted program did, measured. Our own failures are Errors instead.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/file_tree.hpp"

namespace ignite {

enum class Outcome {
  exited,             // exit_code holds the status (0 or not)
  signaled,           // killed by a signal it did not get from us
  wall_time_exceeded,
  memory_exceeded,    // cgroup OOM kill
  output_exceeded,
  syscall_blocked,    // seccomp kill / SIGSYS
  cancelled,          // stop requested by the caller
};

// The CONTRACT §4 `status` word: ok, runtime_error, timeout, memory_limit, ...
std::string_view status_name(Outcome outcome, int exit_code) noexcept;

// The CONTRACT §2 process exit code for `run`/`exec`: 0, the program's code, 124, 137, 128+N.
int cli_exit_code(Outcome outcome, int exit_code, int signal) noexcept;

struct Usage {
  std::chrono::microseconds wall{};
  std::chrono::microseconds cpu{};
  std::uint64_t peak_memory_bytes = 0;
  std::uint32_t pids_peak = 0;
};

// A microVM's own cost on the host, beside the job's usage measured inside the guest: its VMM
// process over the VM's whole life (boot or restore included).
struct VmmUsage {
  std::uint64_t peak_memory_bytes = 0;  // peak resident set of the VMM (guest RAM it touched)
  std::chrono::microseconds cpu{};      // the VMM's user + system time
};

struct ExecutionResult {
  Outcome outcome = Outcome::exited;
  int exit_code = 0;  // meaningful when outcome == exited
  int signal = 0;     // set when a signal ended the program (ours or not)
  std::string stdout_data;
  std::string stderr_data;
  bool stdout_truncated = false;
  bool stderr_truncated = false;
  Usage usage;
  std::chrono::microseconds setup{};  // sandbox preparation before the program started
  std::optional<VmmUsage> vmm;        // microvm only
  bool warm = false;                  // a warm slot ran it (setup: only the hand-off)
  std::string detail;                 // short human text, e.g. "blocked syscall: ptrace"
  std::string blocked_syscall;        // syscall_blocked: the call's name when known ("kexec_load")
  // Promises this run could not keep because the host lacks a mechanism (no cgroup: rlimits
  // instead of cgroup limits, ...). Empty = full isolation; otherwise the result is "degraded".
  std::vector<std::string> degradations;
  // What the program left in its output dir (SandboxSpec::output), as copied to the host.
  FileTree output;
  // A lenient output dir the host refused to take (why); `output` is empty then.
  std::string output_error;
};

}  // namespace ignite
