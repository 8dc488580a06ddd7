#include "sandbox/native/native_slot.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#include "core/classify.hpp"
#include "sandbox/common/handoff.hpp"
#include "sandbox/native/child.hpp"
#include "sandbox/native/egress_proxy.hpp"
#include "sandbox/native/handover.hpp"
#include "sandbox/native/seccomp_filter.hpp"
#include "sandbox/native/supervisor.hpp"
#include "sys/files.hpp"
#include "sys/no_sigpipe.hpp"
#include "sys/tree.hpp"

namespace ignite::sandbox::native {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::microseconds;

// node_modules trees nest deep (scoped packages inside nested node_modules); beyond this a tree
// is hostile, not a package layout.
constexpr std::uint32_t kMaxOutputDepth = 128;

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
  }
  return "setup";
}

RunEnd::By run_end_by(StopReason reason) {
  switch (reason) {
    case StopReason::timeout: return RunEnd::By::timeout;
    case StopReason::cancelled: return RunEnd::By::cancelled;
    case StopReason::syscall_blocked: return RunEnd::By::blocked_syscall;
    case StopReason::exited:
    case StopReason::setup_timeout: break;
  }
  return RunEnd::By::program;
}

// What a run without a cgroup does not get, for ExecutionResult::degradations.
std::vector<std::string> degradations(bool have_cgroup, bool in_user_namespace, bool private_inodes) {
  std::vector<std::string> d;
  if (!private_inodes)
    d.emplace_back("files: no overlayfs; read-only files are shared with concurrent runs (flock, inotify)");
  if (!have_cgroup) {
    d.emplace_back("memory: no cgroup limit; RLIMIT_DATA caps each process's writable memory");
    d.emplace_back("processes: no cgroup pids limit; RLIMIT_NPROC counts the host user's processes");
    d.emplace_back("cpu: no cgroup quota; only the wall-clock timeout bounds CPU use");
    d.emplace_back("metrics: peak memory is the program's own peak RSS, not the whole sandbox");
  }
  if (in_user_namespace)
    d.emplace_back("identity: rootless; the sandbox runs as the invoking user in a user namespace");
  return d;
}

Error setup_error(const ChildReport& r, const MountPlan& plan) {
  std::string what = "sandbox setup failed while " + std::string(stage_name(r.stage));
  if (r.stage == ChildStage::mount_op && r.detail >= 0 && static_cast<std::size_t>(r.detail) < plan.ops.size())
    what += " (" + plan.ops[static_cast<std::size_t>(r.detail)].target + ")";
  Error e = Error::from_errno(what, r.err);
  // An execve failure is the caller's problem (wrong runtime path), not a host problem.
  if (r.stage == ChildStage::exec) e.code = ErrorCode::invalid_argument;
  return e;
}

Result<EgressPolicy> egress_policy(const Egress& egress) {
  std::vector<Cidr> allowed;
  for (const auto& text : egress.allow) {
    IGNITE_TRY_ASSIGN(Cidr c, parse_cidr(text));
    allowed.push_back(c);
  }
  return EgressPolicy(std::move(allowed), EgressPolicy::local_addresses());
}

// Copies what the program left in its output dir to the host. Everything in the sandbox is
// dead now; the tmpfs lives on through our fd alone. A hostile tree (a FIFO, too deep) is the
// program's failure: an error when the program itself succeeded, else just no output.
Status take_output(const OutputDir& o, const sys::Fd& dir, ExecutionResult& r) {
  const bool succeeded = r.outcome == Outcome::exited && r.exit_code == 0;
  if (!dir) {
    if (!succeeded) return ok();
    return fail(ErrorCode::internal, "sandbox init did not hand over its output dir");
  }
  auto copied = sys::copy_tree_out(dir.get(), o.host_dest, {o.max_bytes, o.max_entries, kMaxOutputDepth});
  if (copied) {
    r.output = std::move(*copied);
    return ok();
  }
  if (!succeeded) return ok();
  return fail(ErrorCode::invalid_argument, "the program's " + o.target.string() + ": " + copied.error().message);
}

// A new file in a drop dir, its parents created 0755. Security: the drop dirs are ours (0755
// root, read-only in the sandbox), and nothing untrusted has run in the slot yet, so nothing
// can have been planted; sys::write_new_file's O_EXCL|O_NOFOLLOW hold that anyway.
Status write_job_file(const fs::path& path, std::string_view content) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) return fail(ErrorCode::internal, "create " + path.parent_path().string() + ": " + ec.message());
  return sys::write_new_file(path, content, 0644);
}

// A hard link when both are on one filesystem (staged ad-hoc files are ours and read-only to
// every sandbox), else a copy.
Status link_or_copy(const fs::path& from, const fs::path& to) {
  if (::link(from.c_str(), to.c_str()) == 0) return ok();
  IGNITE_TRY_ASSIGN(std::string content, sys::read_file(from));
  return write_job_file(to, content);
}

Status copy_tree_in(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  for (fs::recursive_directory_iterator it(from, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path dest = to / fs::relative(it->path(), from);
    if (it->is_symlink(ec)) return fail(ErrorCode::invalid_argument, "a staged tree holds a link: " + it->path().string());
    if (it->is_directory(ec)) {
      if (::mkdir(dest.c_str(), 0755) != 0 && errno != EEXIST) return fail(Error::from_errno("mkdir " + dest.string()));
    } else {
      IGNITE_TRY(link_or_copy(it->path(), dest));
    }
  }
  if (ec) return fail(ErrorCode::internal, "read " + from.string() + ": " + ec.message());
  return ok();
}

}  // namespace

Status NativeSlot::join() {
  if (p_.cgroup && p_.parent_joins_cgroup) {
    if (auto joined = p_.cgroup->add(init_.pid()); !joined)
      return fail(std::move(joined).error().with_context("join cgroup"));
  }
  if (!p_.in_user_namespace) return ok();
  const std::string base = "/proc/" + std::to_string(init_.pid());
  IGNITE_TRY(sys::write_file(base + "/setgroups", "deny"));
  IGNITE_TRY(sys::write_file(base + "/uid_map", "0 " + std::to_string(::geteuid()) + " 1\n"));
  IGNITE_TRY(sys::write_file(base + "/gid_map", "0 " + std::to_string(::getegid()) + " 1\n"));
  return ok();
}

Status NativeSlot::release() {
  if (p_.released) return ok();
  p_.released = true;
  sys::NoSigpipe no_sigpipe;
  if (::write(p_.pipes.sync.write.get(), "g", 1) == 1) {
    p_.pipes.sync.write.reset();
    return ok();
  }
  Error released = Error::from_errno("release child");
  if (released.sys_errno != EPIPE) return fail(std::move(released));
  // Init is gone already: its setup before the release failed (joining its cgroup), and its
  // report says why.
  if (auto why = setup_failure()) return fail(std::move(*why));
  return fail(std::move(released));
}

std::optional<Error> NativeSlot::setup_failure() {
  (void)init_.send_signal(SIGKILL);
  (void)init_.wait();
  std::vector<ChildReport> reports;
  read_reports(p_.pipes.report.read.get(), reports);  // init is reaped: up to EOF
  for (const auto& r : reports) {
    if (r.stage != ChildStage::finished) return setup_error(r, p_.plan);
  }
  return std::nullopt;
}

std::string NativeSlot::bootstrap_failure(std::string_view what) {
  if (auto why = setup_failure()) return why->message;
  std::string err(4096, '\0');
  ::fcntl(p_.pipes.err.read.get(), F_SETFL, O_NONBLOCK);
  ssize_t n = ::read(p_.pipes.err.read.get(), err.data(), err.size());
  err.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return "warm slot: " + std::string(what) + (err.empty() ? "" : ": " + err);
}

Status NativeSlot::warm_up(std::chrono::milliseconds timeout) {
  IGNITE_TRY(release());
  const auto deadline = Clock::now() + timeout;
  std::string got;
  while (got.size() < kReadyMarker.size()) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return fail(ErrorCode::internal, bootstrap_failure("the bootstrap was not ready in time"));
    pollfd fds[2] = {{p_.pipes.out.read.get(), POLLIN, 0}, {init_.pidfd(), POLLIN, 0}};
    int n = ::poll(fds, 2, static_cast<int>(left));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(Error::from_errno("poll"));
    if (fds[0].revents & (POLLIN | POLLHUP)) {
      char buf[64];
      ssize_t r = ::read(p_.pipes.out.read.get(), buf, kReadyMarker.size() - got.size());
      if (r <= 0) return fail(ErrorCode::internal, bootstrap_failure("the bootstrap closed its stdout"));
      got.append(buf, static_cast<std::size_t>(r));
      if (kReadyMarker.substr(0, got.size()) != got)
        return fail(ErrorCode::internal, bootstrap_failure("the bootstrap wrote before it was ready"));
    } else if (fds[1].revents) {
      return fail(ErrorCode::internal, bootstrap_failure("the bootstrap exited"));
    }
  }
  if (p_.cgroup) resident_ = p_.cgroup->usage().memory_current_bytes;
  return ok();
}

Status NativeSlot::place_files(const Job& job) const {
  auto host_dir = [&](const fs::path& target) -> Result<fs::path> {
    for (std::size_t i = 0; i < p_.spec.drop_dirs.size(); ++i) {
      const fs::path& d = p_.spec.drop_dirs[i];
      auto rel = target.lexically_relative(d);
      if (target == d) return p_.drop_hosts[i];
      if (!rel.empty() && *rel.begin() != ".." && rel.is_relative()) return p_.drop_hosts[i] / rel;
    }
    return fail(ErrorCode::invalid_argument, target.string() + " is in none of the slot's drop dirs");
  };
  for (const auto& f : job.files) {
    if (f.target.lexically_normal() != f.target || !f.target.is_absolute())
      return fail(ErrorCode::invalid_argument, "job file target must be a plain absolute path: " + f.target.string());
    IGNITE_TRY_ASSIGN(fs::path host, host_dir(f.target));
    IGNITE_TRY(write_job_file(host, f.content));
  }
  for (const auto& t : job.trees) {
    IGNITE_TRY_ASSIGN(fs::path host, host_dir(t.target));
    IGNITE_TRY(copy_tree_in(t.source, host));
  }
  return ok();
}

// release -> supervise -> measure -> classify; the destructor undoes everything.
Result<ExecutionResult> NativeSlot::run(Job job, std::stop_token stop, const OutputSink& sink) {
  if (used_) return fail(ErrorCode::internal, "a slot runs one job only");
  used_ = true;
  const SandboxSpec& spec = p_.spec;
  const auto run_called = Clock::now();
  std::string stdin_data, nonce;
  CgroupUsage baseline;
  if (spec.warm) {
    // An idle bootstrap writes nothing and does not exit: if it did, nothing of the job has
    // run yet, and the caller may run it elsewhere (unavailable).
    pollfd idle[2] = {{init_.pidfd(), POLLIN, 0}, {p_.pipes.out.read.get(), POLLIN, 0}};
    if (::poll(idle, 2, 0) != 0)
      return fail(ErrorCode::unavailable, "the warm slot's bootstrap exited or wrote while idle");
    // Single use, exact accounting: what the bootstrap used is not the job's.
    IGNITE_TRY(place_files(job));
    nonce = make_nonce();
    IGNITE_TRY_ASSIGN(stdin_data, encode_job_header(job, nonce));
    stdin_data += job.stdin_data;
    if (p_.cgroup) baseline = p_.cgroup->begin_job();
    p_.pipes.exec.read.reset();  // the bootstrap's execve was long ago: the clock starts now
  } else {
    stdin_data = std::move(job.stdin_data);
    IGNITE_TRY(release());
  }

  // supervise
  SupervisionLimits sl{.wall_time = spec.limits.wall_time, .max_output_bytes = spec.limits.max_output_bytes};
  Handover handed;
  if (p_.pipes.handover_parent)
    handed = receive_handover(p_.pipes.handover_parent.get(), init_, spec.output.has_value(),
                              spec.egress.has_value(), sl.setup_time);
  std::unique_ptr<EgressProxy> proxy;
  if (handed.egress_listener) {
    IGNITE_TRY_ASSIGN(EgressPolicy policy, egress_policy(*spec.egress));
    IGNITE_TRY_ASSIGN(proxy, EgressProxy::create(std::move(handed.egress_listener), std::move(policy)));
  }
  IGNITE_TRY_ASSIGN(Supervision sup,
                    supervise({&init_, std::move(p_.pipes.exec.read), std::move(p_.pipes.out.read),
                               std::move(p_.pipes.err.read), std::move(p_.pipes.in.write),
                               std::move(p_.pipes.notify_parent), std::move(p_.pipes.report.read), proxy.get()},
                              stdin_data, sl, stop, sink));
  // Reaped here when it is gone already; else init is tearing the sandbox down, and the
  // destructor reaps it (off the caller's path when a pool destroys the slot).
  if (sup.init_exited) (void)init_.wait();

  // measure + classify
  const auto& reports = sup.reports;
  for (const auto& r : reports) {
    if (r.stage != ChildStage::finished) return fail(setup_error(r, p_.plan));
  }
  if (sup.reason == StopReason::setup_timeout)
    return fail(ErrorCode::internal, "sandbox setup did not finish within 10 s");
  if (auto err = exec_failure(sup.stdout_data, nonce)) {
    Error e = Error::from_errno("sandbox setup failed while execve", *err);
    e.code = ErrorCode::invalid_argument;  // as a cold start's setup_error says it
    return fail(std::move(e));
  }
  CgroupUsage cu = p_.cgroup ? p_.cgroup->usage(baseline) : CgroupUsage{};
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
  r.setup = duration_cast<microseconds>(exec_at - (spec.warm ? run_called : p_.started));
  r.usage.wall = duration_cast<microseconds>(sup.exit_at - exec_at);
  r.usage.peak_memory_bytes = cu.memory_peak_bytes;
  if (!p_.cgroup && !reports.empty())
    r.usage.peak_memory_bytes = static_cast<std::uint64_t>(reports.back().maxrss_kb) * 1024;
  r.degradations = degradations(p_.cgroup.has_value(), p_.in_user_namespace, p_.private_inodes);
  if (spec.warm && !p_.cgroup)
    r.degradations.emplace_back("metrics: without a cgroup, a warm slot's CPU time includes its bootstrap's");
  r.usage.pids_peak = cu.pids_peak;
  r.usage.cpu = microseconds(cu.cpu_usage_usec ? static_cast<std::int64_t>(cu.cpu_usage_usec)
                                               : (reports.empty() ? 0 : reports.back().cpu_usec));
  r.warm = spec.warm;
  classify(r, {run_end_by(sup.reason), reports.empty() ? std::optional<int>{} : reports.back().status,
               cu.oom_killed});
  if (sup.blocked) {
    r.blocked_syscall = syscall_name(sup.blocked->nr, sup.blocked->arch);
    r.detail = "blocked syscall: " + r.blocked_syscall;
  }
  if (spec.output) IGNITE_TRY(take_output(*spec.output, handed.out_dir, r));
  return r;
}

}  // namespace ignite::sandbox::native
