#include "sandbox/native/run_result.hpp"

#include "core/classify.hpp"
#include "sandbox/common/handoff.hpp"
#include "sandbox/native/seccomp_filter.hpp"

namespace ignite::sandbox::native {
namespace {

using std::chrono::duration_cast;
using std::chrono::microseconds;

std::string_view stage_name(ChildStage s) {
  switch (s) {
    case ChildStage::finished: return "finished";
    case ChildStage::sync: return "waiting for the supervisor";
    case ChildStage::hostname: return "sethostname";
    case ChildStage::mount_private: return "making mounts private";
    case ChildStage::mount_op: return "building the root filesystem";
    case ChildStage::pivot_root: return "pivot_root";
    case ChildStage::remount_root: return "remounting / read-only";
    case ChildStage::chdir: return "entering the working directory";
    case ChildStage::identity: return "switching to the sandbox user";
    case ChildStage::capabilities: return "dropping capabilities";
    case ChildStage::no_new_privs: return "setting no_new_privs";
    case ChildStage::fork: return "starting the program";
    case ChildStage::rlimit: return "setting rlimits";
    case ChildStage::stdio: return "setting up stdio";
    case ChildStage::signals: return "resetting signals";
    case ChildStage::seccomp: return "loading the seccomp filter";
    case ChildStage::exec: return "execve";
    case ChildStage::hide_supervisor: return "making init non-dumpable";
    case ChildStage::seccomp_listener: return "handing over the seccomp listener";
    case ChildStage::export_dir: return "handing over the output directory";
    case ChildStage::egress: return "setting up the egress proxy's socket";
    case ChildStage::cgroup: return "joining the cgroup";
    case ChildStage::start_init: return "starting the sandbox's init (ignite-sandbox-init)";
  }
  return "setup";
}

RunEnd::By run_end_by(StopReason reason) {
  switch (reason) {
    case StopReason::timeout: return RunEnd::By::timeout;
    case StopReason::cancelled: return RunEnd::By::cancelled;
    case StopReason::syscall_blocked: return RunEnd::By::blocked_syscall;
    case StopReason::memory_thrash: return RunEnd::By::memory_thrash;
    case StopReason::exited:
    case StopReason::setup_timeout: break;
  }
  return RunEnd::By::program;
}

}  // namespace

Error setup_error(const ChildReport& r, const MountPlan* plan) {
  std::string what = "sandbox setup failed while " + std::string(stage_name(r.stage));
  if (plan && r.stage == ChildStage::mount_op && r.detail >= 0 && static_cast<std::size_t>(r.detail) < plan->ops.size())
    what += " (" + plan->ops[static_cast<std::size_t>(r.detail)].target + ")";
  Error e = Error::from_errno(what, r.err);
  // An execve failure is the caller's problem (wrong runtime path), not a host problem.
  if (r.stage == ChildStage::exec) e.code = ErrorCode::invalid_argument;
  return e;
}


std::optional<Error> reported_setup_failure(int report_fd, const MountPlan* plan) {
  std::vector<ChildReport> reports;
  read_reports(report_fd, reports);
  for (const auto& r : reports) {
    if (r.stage != ChildStage::finished) return setup_error(r, plan);
  }
  return std::nullopt;
}

std::string bootstrap_failure(std::string_view what, int report_fd, int stderr_fd, const MountPlan* plan) {
  if (auto why = reported_setup_failure(report_fd, plan)) return why->message;
  const std::string err = read_available(stderr_fd, 4096);
  return "warm slot: " + std::string(what) + (err.empty() ? "" : ": " + err);
}

Result<ExecutionResult> result_of(Supervision& sup, RunFacts facts) {
  const auto& reports = sup.reports;
  for (const auto& r : reports) {
    if (r.stage != ChildStage::finished) return fail(setup_error(r, facts.plan));
  }
  if (sup.reason == StopReason::setup_timeout)
    return fail(ErrorCode::internal, "sandbox setup did not finish within 10 s");
  if (auto e = exec_failure_error(sup.stdout_data, facts.nonce)) return fail(std::move(*e));
  const CgroupUsage cu = facts.usage.value_or(CgroupUsage{});
  // Init is in the run's cgroup too: when the program's memory cannot be reclaimed (tmpfs
  // pages outlive their writer) the OOM killer may pick init, or init's report write fails
  // for lack of memory. That is the program's memory limit, not our failure.
  if (sup.reason == StopReason::exited && reports.empty() && !cu.oom_killed)
    return fail(ErrorCode::internal, "sandbox init exited without a report");

  ExecutionResult r;
  r.stdout_data = std::move(sup.stdout_data);
  r.stderr_data = std::move(sup.stderr_data);
  r.stdout_truncated = sup.stdout_truncated;
  r.stderr_truncated = sup.stderr_truncated;
  const auto exec_at = sup.exec_seen ? sup.exec_at : sup.exit_at;
  r.setup = duration_cast<microseconds>(exec_at - facts.setup_from);
  r.usage.wall = duration_cast<microseconds>(sup.exit_at - exec_at);
  r.usage.peak_memory_bytes = cu.memory_peak_bytes;
  if (!facts.usage && !reports.empty())
    r.usage.peak_memory_bytes = static_cast<std::uint64_t>(reports.back().maxrss_kb) * 1024;
  r.degradations = std::move(facts.degradations);
  r.usage.pids_peak = cu.pids_peak;
  r.usage.cpu = microseconds(cu.cpu_usage_usec ? static_cast<std::int64_t>(cu.cpu_usage_usec)
                                               : (reports.empty() ? 0 : reports.back().cpu_usec));
  r.warm = facts.warm;
  classify(r, {run_end_by(sup.reason), reports.empty() ? std::optional<int>{} : reports.back().status,
               cu.oom_killed});
  if (sup.blocked) {
    r.blocked_syscall = syscall_name(sup.blocked->nr, sup.blocked->arch);
    r.detail = "blocked syscall: " + r.blocked_syscall;
  }
  return r;
}

}  // namespace ignite::sandbox::native
