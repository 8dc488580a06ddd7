// Outcome classification: one judgement for every backend (native, docker, microvm). From how a
// run ended — its own exit, or a stop we caused — to the Outcome, exit code, signal and detail of
// its ExecutionResult. Pure: unit-tested without a sandbox.
#pragma once
#include <optional>

#include "core/execution_result.hpp"

namespace ignite {

struct RunEnd {
  enum class By {
    program,          // the program ended by itself (exit or a signal not from us)
    timeout,          // we killed it at the wall-clock deadline
    cancelled,        // we killed it because the caller asked
    blocked_syscall,  // we killed it for a call the policy ends runs for
    memory_thrash,    // we killed it thrashing at its memory limit (core/memory_thrash.hpp)
  };
  By by = By::program;
  std::optional<int> wait_status;  // the program's wait(2) status, when known
  bool oom_killed = false;         // the kernel's OOM killer fired in the run's cgroup
};

// Sets r.outcome, r.exit_code, r.signal and r.detail. Precedence: our own stops (timeout,
// cancel, blocked call, a thrash kill unless the program exited first) → an OOM kill (unless
// the program still exited 0) → SIGSYS (seccomp) → another signal → the exit code.
void classify(ExecutionResult& r, const RunEnd& end);

}  // namespace ignite
