// The result of one supervised run, from what the supervisor saw and what the cgroup counted:
// shared by every backend whose sandbox runs on this kernel with our init (native, docker).
#pragma once
#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/execution_result.hpp"
#include "core/result.hpp"
#include "sandbox/native/cgroup.hpp"
#include "sandbox/native/child.hpp"
#include "sandbox/native/mount_plan.hpp"
#include "sandbox/native/supervisor.hpp"

namespace ignite::sandbox::native {

struct RunFacts {
  bool warm = false;
  // Setup counts from here to the program's execve: the slot's start (cold) or the hand-off.
  std::chrono::steady_clock::time_point setup_from;
  std::string nonce;                       // the hand-off's, for the exec bootstrap's failure
  std::optional<CgroupUsage> usage;        // none: no cgroup (peak memory and CPU from rusage)
  std::vector<std::string> degradations;   // ExecutionResult::degradations
  const MountPlan* plan = nullptr;         // names a failed mount step
};

// A setup failure that init reported (or the exec bootstrap's) as the Error it is; else the
// run's ExecutionResult, classified. Moves the output out of `sup`.
Result<ExecutionResult> result_of(Supervision& sup, RunFacts facts);

// "sandbox setup failed while <stage>: <errno>", execve failures as invalid_argument.
Error setup_error(const ChildReport& r, const MountPlan* plan);

}  // namespace ignite::sandbox::native
