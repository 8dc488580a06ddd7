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

// The setup failure init reported, if any; reads `report_fd` to EOF, so init must be gone.
std::optional<Error> reported_setup_failure(int report_fd, const MountPlan* plan);

// Why a warm slot's bootstrap did not come up (`what`, from await_ready): init's setup failure
// if it reported one, else `what` with what the bootstrap wrote to stderr. Init must be gone.
std::string bootstrap_failure(std::string_view what, int report_fd, int stderr_fd, const MountPlan* plan);

}  // namespace ignite::sandbox::native
