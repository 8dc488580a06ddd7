#include "sandbox/native/native_backend.hpp"

#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <sstream>

#include <spdlog/spdlog.h>

#include "core/classify.hpp"
#include "sandbox/native/cgroup.hpp"
#include "sandbox/native/id_pool.hpp"
#include "sandbox/native/child.hpp"
#include "sandbox/native/egress_proxy.hpp"
#include "sandbox/native/handover.hpp"
#include "sandbox/native/seccomp_filter.hpp"
#include "sandbox/native/supervisor.hpp"
#include "sys/child_process.hpp"
#include "sys/files.hpp"
#include "sys/owned_dir.hpp"
#include "sys/pipe.hpp"
#include "sys/temp_dir.hpp"
#include "sys/tree.hpp"

namespace ignite::sandbox::native {
namespace {

using Clock = std::chrono::steady_clock;

// node_modules trees nest deep (scoped packages inside nested node_modules); beyond this a tree
// is hostile, not a package layout.
constexpr std::uint32_t kMaxOutputDepth = 128;
using std::chrono::duration_cast;
using std::chrono::microseconds;

// argv/envp as the NULL-terminated char* arrays execve wants, built before clone.
class CStrings {
 public:
  explicit CStrings(const std::vector<std::string>& strings) : storage_(strings) {
    for (auto& s : storage_) ptrs_.push_back(s.data());
    ptrs_.push_back(nullptr);
  }
  char* const* get() const { return ptrs_.data(); }

 private:
  std::vector<std::string> storage_;
  std::vector<char*> ptrs_;
};

// The pipes of one run; the child-side ends are closed in the parent right after clone.
struct RunPipes {
  sys::Pipe sync, report, exec, in, out, err;
  sys::Fd notify_parent, notify_child;  // seccomp listener hand-over (SCM_RIGHTS)
  sys::Fd handover_parent, handover_child;  // init's output dir and egress listener
};

Status make_socketpair(sys::Fd& parent, sys::Fd& child) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
    return fail(Error::from_errno("socketpair"));
  parent.reset(sv[0]);
  child.reset(sv[1]);
  return ok();
}

Result<RunPipes> make_pipes(bool notify, bool handover) {
  RunPipes p;
  if (notify) IGNITE_TRY(make_socketpair(p.notify_parent, p.notify_child));
  if (handover) IGNITE_TRY(make_socketpair(p.handover_parent, p.handover_child));
  IGNITE_TRY_ASSIGN(p.sync, sys::make_pipe());
  IGNITE_TRY_ASSIGN(p.report, sys::make_pipe());
  IGNITE_TRY_ASSIGN(p.exec, sys::make_pipe());
  IGNITE_TRY_ASSIGN(p.in, sys::make_pipe());
  IGNITE_TRY_ASSIGN(p.out, sys::make_pipe());
  IGNITE_TRY_ASSIGN(p.err, sys::make_pipe());
  return p;
}

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
  }
  return "setup";
}

// [start, end) of our argv and environment strings, from /proc/self/stat (fields 48-51), so
// the sandbox's init can wipe its copies (see hide_supervisor in child.cpp). Zeros if unknown.
std::array<std::array<char*, 2>, 2> own_arg_env_ranges() {
  std::array<std::array<char*, 2>, 2> out{};
  auto stat = sys::read_file("/proc/self/stat");
  if (!stat) return out;
  // Field 2 (comm) may contain spaces and parentheses: count fields after the last ')'.
  std::istringstream in(stat->substr(stat->rfind(')') + 2));
  std::string field;
  std::vector<std::uintptr_t> fields;
  while (in >> field) fields.push_back(std::strtoull(field.c_str(), nullptr, 10));
  // After ')' comes field 3 (state); fields 48..51 are at index 45..48.
  if (fields.size() < 49) return out;
  for (std::size_t i = 0; i < 4; ++i) out[i / 2][i % 2] = reinterpret_cast<char*>(fields[45 + i]);
  return out;
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

class NativeBackend final : public Backend {
 public:
  NativeBackend(NativeConfig config, CgroupLayout layout, SeccompFilter filter)
      : config_(std::move(config)),
        layout_(std::move(layout)),
        filter_(std::move(filter)),
        ids_(config_.id_lock_dir, config_.first_id, config_.id_count),
        wipe_(own_arg_env_ranges()) {}

  std::string_view name() const noexcept override { return "native"; }

  // prepare -> spawn -> supervise -> measure -> classify; RAII undoes everything.
  Result<ExecutionResult> run(const SandboxSpec& spec, std::stop_token stop,
                              const OutputSink& sink) override {
    const auto started = Clock::now();
    IGNITE_TRY(validate(spec, config_.ceilings));

    // prepare
    const bool in_user_namespace = ::geteuid() != 0;
    // Rootless runs are the caller's own uid, 0 inside their user namespace.
    std::optional<IdPool::Lease> id;
    if (!in_user_namespace) {
      IGNITE_TRY_ASSIGN(IdPool::Lease lease, ids_.acquire());
      id.emplace(std::move(lease));
    }
    const unsigned uid = id ? id->id() : 0;
    const SandboxIdentity identity{uid, uid};
    IGNITE_TRY_ASSIGN(sys::TempDir scratch, sys::TempDir::create(config_.scratch_root, "run-"));
    const auto root = scratch.path() / "root";
    if (::mkdir(root.c_str(), 0700) != 0) return fail(Error::from_errno("mkdir " + root.string()));
    IGNITE_TRY_ASSIGN(MountPlan plan, build_mount_plan(spec, root, identity, config_.private_inodes));
    std::optional<Cgroup> cgroup;
    if (layout_.version != CgroupVersion::none) {
      IGNITE_TRY_ASSIGN(Cgroup cg, Cgroup::create(layout_, config_.run_prefix + scratch.path().filename().string(),
                                                  cgroup_limits(spec.limits)));
      cgroup.emplace(std::move(cg));
    }
    IGNITE_TRY_ASSIGN(RunPipes pipes, make_pipes(filter_.notify_kills(), spec.output || spec.egress));
    const std::string export_path = spec.output ? spec.output->target.string() : "";
    CStrings argv(spec.argv), envp(spec.env);
    const std::string workdir = spec.workdir.string();
    auto rlimits = rlimits_for(spec.limits, cgroup.has_value());
    ChildArgs args{.plan = &plan,
                   .workdir = workdir.c_str(),
                   .argv = argv.get(),
                   .envp = envp.get(),
                   .seccomp = filter_.program(),
                   .seccomp_listener = filter_.notify_kills(),
                   .rlimits = rlimits.data(),
                   .rlimit_count = static_cast<int>(rlimits.size()),
                   .uid = identity.uid,
                   .gid = identity.gid,
                   .in_user_namespace = in_user_namespace,
                   .sync_fd = pipes.sync.read.get(),
                   .report_fd = pipes.report.write.get(),
                   .exec_fd = pipes.exec.write.get(),
                   .stdin_fd = pipes.in.read.get(),
                   .stdout_fd = pipes.out.write.get(),
                   .stderr_fd = pipes.err.write.get(),
                   .notify_fd = pipes.notify_child.get(),
                   .handover_fd = pipes.handover_child.get(),
                   .export_path = spec.output ? export_path.c_str() : nullptr,
                   .egress_port = spec.egress ? spec.egress->port : std::uint16_t{0},
                   .wipe = {{wipe_[0][0], wipe_[0][1]}, {wipe_[1][0], wipe_[1][1]}}};

    // spawn
    IGNITE_TRY_ASSIGN(sys::ChildProcess init, spawn(args, spec.limits.network));
    for (sys::Fd* fd : {&pipes.sync.read, &pipes.report.write, &pipes.exec.write, &pipes.in.read,
                        &pipes.out.write, &pipes.err.write, &pipes.notify_child, &pipes.handover_child})
      fd->reset();
    if (cgroup) {
      if (auto joined = cgroup->add(init.pid()); !joined)
        return fail(std::move(joined).error().with_context("join cgroup"));
    }
    if (args.in_user_namespace) IGNITE_TRY(write_id_maps(init.pid()));
    if (::write(pipes.sync.write.get(), "g", 1) != 1) return fail(Error::from_errno("release child"));
    pipes.sync.write.reset();

    // supervise
    SupervisionLimits sl{.wall_time = spec.limits.wall_time,
                         .max_output_bytes = spec.limits.max_output_bytes};
    Handover handed;
    if (pipes.handover_parent)
      handed = receive_handover(pipes.handover_parent.get(), init, spec.output.has_value(),
                                spec.egress.has_value(), sl.setup_time);
    std::unique_ptr<EgressProxy> proxy;
    if (handed.egress_listener) {
      IGNITE_TRY_ASSIGN(EgressPolicy policy, egress_policy(*spec.egress));
      IGNITE_TRY_ASSIGN(proxy, EgressProxy::create(std::move(handed.egress_listener), std::move(policy)));
    }
    IGNITE_TRY_ASSIGN(Supervision sup,
                      supervise({&init, std::move(pipes.exec.read), std::move(pipes.out.read),
                                 std::move(pipes.err.read), std::move(pipes.in.write),
                                 std::move(pipes.notify_parent), proxy.get()},
                                spec.stdin_data, sl, stop, sink));
    (void)init.wait();  // reap; the pidfd already said it exited

    // measure + classify
    auto reports = read_reports(pipes.report.read.get());
    for (const auto& r : reports) {
      if (r.stage != ChildStage::finished) return fail(setup_error(r, plan));
    }
    if (sup.reason == StopReason::setup_timeout)
      return fail(ErrorCode::internal, "sandbox setup did not finish within 10 s");
    CgroupUsage cu = cgroup ? cgroup->usage() : CgroupUsage{};
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
    r.setup = duration_cast<microseconds>(exec_at - started);
    r.usage.wall = duration_cast<microseconds>(sup.exit_at - exec_at);
    r.usage.peak_memory_bytes = cu.memory_peak_bytes;
    if (!cgroup && !reports.empty())
      r.usage.peak_memory_bytes = static_cast<std::uint64_t>(reports.back().maxrss_kb) * 1024;
    r.degradations = degradations(cgroup.has_value(), args.in_user_namespace, config_.private_inodes);
    r.usage.pids_peak = cu.pids_peak;
    r.usage.cpu = microseconds(cu.cpu_usage_usec ? static_cast<std::int64_t>(cu.cpu_usage_usec)
                                                 : (reports.empty() ? 0 : reports.back().cpu_usec));
    classify(r, {run_end_by(sup.reason), reports.empty() ? std::optional<int>{} : reports.back().status,
                 cu.oom_killed});
    if (sup.blocked) {
      r.blocked_syscall = syscall_name(sup.blocked->nr, sup.blocked->arch);
      r.detail = "blocked syscall: " + r.blocked_syscall;
    }
    if (spec.output) IGNITE_TRY(take_output(*spec.output, handed.out_dir, r));
    return r;
  }

 private:
  // Copies what the program left in its output dir to the host. Everything in the sandbox is
  // dead now; the tmpfs lives on through our fd alone. A hostile tree (a FIFO, too deep) is the
  // program's failure: an error when the program itself succeeded, else just no output.
  static Status take_output(const OutputDir& o, const sys::Fd& dir, ExecutionResult& r) {
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

  static Result<EgressPolicy> egress_policy(const Egress& egress) {
    std::vector<Cidr> allowed;
    for (const auto& text : egress.allow) {
      IGNITE_TRY_ASSIGN(Cidr c, parse_cidr(text));
      allowed.push_back(c);
    }
    return EgressPolicy(std::move(allowed), EgressPolicy::local_addresses());
  }

  static CgroupLimits cgroup_limits(const Limits& l) {
    return {.memory_max_bytes = l.memory_bytes, .pids_max = l.max_processes, .cpu_cores = l.cpu_cores};
  }

  static std::vector<RlimitSetting> rlimits_for(const Limits& l, bool have_cgroup) {
    std::vector<RlimitSetting> r = {
        {RLIMIT_CORE, 0},
        {RLIMIT_FSIZE, l.max_file_bytes},
        {RLIMIT_NOFILE, l.max_open_files},
        {RLIMIT_STACK, l.stack_bytes},
    };
    // Degraded mode only: RLIMIT_NPROC counts per host uid (shared by concurrent runs), and
    // RLIMIT_DATA caps one process's writable private memory; cgroups are the real limits.
    // Not RLIMIT_AS: V8, Go and Bun reserve gigabytes of PROT_NONE address space up front, and
    // would not even start (RLIMIT_DATA does not count reservations until they are writable).
    if (!have_cgroup) {
      r.push_back({RLIMIT_NPROC, l.max_processes});
      r.push_back({RLIMIT_DATA, l.memory_bytes});
    }
    return r;
  }

  static Result<sys::ChildProcess> spawn(const ChildArgs& args, bool network) {
    std::uint64_t flags = CLONE_PIDFD | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS |
                          CLONE_NEWCGROUP;
    if (!network) flags |= CLONE_NEWNET;  // a fresh network namespace: only a loopback, down
    if (args.in_user_namespace) flags |= CLONE_NEWUSER;
    int pidfd = -1;
    clone_args ca{};
    ca.flags = flags;
    ca.pidfd = reinterpret_cast<std::uint64_t>(&pidfd);
    ca.exit_signal = SIGCHLD;
    long pid = ::syscall(SYS_clone3, &ca, sizeof ca);
    if (pid < 0) return fail(Error::from_errno("clone3"));
    if (pid == 0) child_main(args);  // never returns
    return sys::ChildProcess(static_cast<pid_t>(pid), sys::Fd(pidfd));
  }

  static Status write_id_maps(pid_t pid) {
    const std::string base = "/proc/" + std::to_string(pid);
    IGNITE_TRY(sys::write_file(base + "/setgroups", "deny"));
    IGNITE_TRY(sys::write_file(base + "/uid_map", "0 " + std::to_string(::geteuid()) + " 1\n"));
    IGNITE_TRY(sys::write_file(base + "/gid_map", "0 " + std::to_string(::getegid()) + " 1\n"));
    return ok();
  }

  static std::vector<ChildReport> read_reports(int fd) {
    std::vector<ChildReport> out;
    ChildReport r;
    while (::read(fd, &r, sizeof r) == static_cast<ssize_t>(sizeof r)) out.push_back(r);
    return out;
  }

  static Error setup_error(const ChildReport& r, const MountPlan& plan) {
    std::string what = "sandbox setup failed while " + std::string(stage_name(r.stage));
    if (r.stage == ChildStage::mount_op && r.detail >= 0 &&
        static_cast<std::size_t>(r.detail) < plan.ops.size())
      what += " (" + plan.ops[static_cast<std::size_t>(r.detail)].target + ")";
    Error e = Error::from_errno(what, r.err);
    // An execve failure is the caller's problem (wrong runtime path), not a host problem.
    if (r.stage == ChildStage::exec) e.code = ErrorCode::invalid_argument;
    return e;
  }

  NativeConfig config_;
  CgroupLayout layout_;
  SeccompFilter filter_;
  IdPool ids_;
  std::array<std::array<char*, 2>, 2> wipe_;
};

}  // namespace

bool kernel_has_overlayfs(const std::filesystem::path& proc) {
  auto text = sys::read_file(proc / "filesystems");
  return text && text->find("\toverlay\n") != std::string::npos;
}

Result<std::unique_ptr<Backend>> make_native_backend(NativeConfig config) {
  CgroupLayout layout = detect_cgroups(config.proc);
  if (layout.version != CgroupVersion::none) {
    auto prepared = prepare_cgroup_parent(layout);
    if (!prepared) {
      layout.reason = prepared.error().message;
      layout.version = CgroupVersion::none;
    }
  }
  if (layout.version != CgroupVersion::none && config.stale_run)
    collect_stale_cgroups(layout, config.stale_run);
  if (layout.version == CgroupVersion::none && !config.allow_degraded) {
    return fail(ErrorCode::unsupported,
                "cannot enforce memory/process/CPU limits: " + layout.describe() +
                    " (run `ignite doctor`; --allow-degraded accepts rlimit-only limits)");
  }
  if (layout.version == CgroupVersion::none)
    spdlog::warn("DEGRADED isolation: {}; limits fall back to rlimits", layout.describe());
  IGNITE_TRY_ASSIGN(auto rules, parse_seccomp_policy(default_seccomp_policy()));
  IGNITE_TRY_ASSIGN(SeccompFilter filter,
                    SeccompFilter::compile(rules, kernel_has_user_notif(config.proc)));
  IGNITE_TRY(sys::ensure_owned_dir(config.scratch_root, 0700));
  if (config.private_inodes && !kernel_has_overlayfs(config.proc)) {
    spdlog::warn("no overlayfs in this kernel: concurrent runs share the inodes of read-only files");
    config.private_inodes = false;
  }
  return std::unique_ptr<Backend>(
      new NativeBackend(std::move(config), std::move(layout), std::move(filter)));
}

}  // namespace ignite::sandbox::native
