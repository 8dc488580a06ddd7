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

#include "sandbox/native/cgroup.hpp"
#include "sandbox/native/id_pool.hpp"
#include "sandbox/native/child.hpp"
#include "sandbox/native/seccomp_filter.hpp"
#include "sandbox/native/native_slot.hpp"
#include "sys/child_process.hpp"
#include "sys/files.hpp"
#include "sys/owned_dir.hpp"
#include "sys/pipe.hpp"
#include "sys/temp_dir.hpp"

namespace ignite::sandbox::native {
namespace {

using Clock = std::chrono::steady_clock;

// A bootstrap loads its runtime within this (deno, the slowest, takes ~0.1 s on this machine).
constexpr std::chrono::seconds kWarmUpTimeout{10};

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

class NativeBackend final : public Backend {
 public:
  NativeBackend(NativeConfig config, CgroupLayout layout, SeccompFilter filter)
      : config_(std::move(config)),
        layout_(std::move(layout)),
        filter_(std::move(filter)),
        ids_(config_.id_lock_dir, config_.first_id, config_.id_count),
        wipe_(own_arg_env_ranges()) {}

  std::string_view name() const noexcept override { return "native"; }

  // prepare -> spawn -> join the cgroup; a warm slot is also released and warmed up. The
  // slot's parts undo everything when it is destroyed, also on every error path here.
  Result<std::unique_ptr<Slot>> start(const SandboxSpec& spec) override {
    SlotParts p;
    p.started = Clock::now();
    IGNITE_TRY(validate(spec, config_.ceilings));
    p.spec = spec;
    p.spec.stdin_data.clear();
    p.private_inodes = config_.private_inodes;

    // prepare
    p.in_user_namespace = ::geteuid() != 0;
    // Rootless runs are the caller's own uid, 0 inside their user namespace.
    if (!p.in_user_namespace) {
      IGNITE_TRY_ASSIGN(IdPool::Lease lease, ids_.acquire());
      p.id.emplace(std::move(lease));
    }
    const unsigned uid = p.id ? p.id->id() : 0;
    const SandboxIdentity identity{uid, uid};
    IGNITE_TRY_ASSIGN(sys::TempDir scratch, sys::TempDir::create(config_.scratch_root, "run-"));
    p.scratch.emplace(std::move(scratch));
    const auto root = p.scratch->path() / "root";
    if (::mkdir(root.c_str(), 0700) != 0) return fail(Error::from_errno("mkdir " + root.string()));
    SandboxSpec planned = spec;
    for (std::size_t i = 0; i < spec.drop_dirs.size(); ++i) {
      // Security: ours alone (under the 0700 scratch dir), read-only inside, filled at hand-off.
      const auto host = p.scratch->path() / ("drop-" + std::to_string(i));
      if (::mkdir(host.c_str(), 0755) != 0) return fail(Error::from_errno("mkdir " + host.string()));
      p.drop_hosts.push_back(host);
      planned.mounts.push_back({host, spec.drop_dirs[i], false, true});
    }
    IGNITE_TRY_ASSIGN(p.plan, build_mount_plan(planned, root, identity, config_.private_inodes));
    if (layout_.version != CgroupVersion::none) {
      IGNITE_TRY_ASSIGN(Cgroup cg, Cgroup::create(layout_, config_.run_prefix + p.scratch->path().filename().string(),
                                                  cgroup_limits(spec.limits)));
      p.cgroup.emplace(std::move(cg));
    }
    std::vector<sys::Fd> join_fds;  // see Cgroup::open_for_join
    if (p.cgroup) {
      IGNITE_TRY_ASSIGN(join_fds, p.cgroup->open_for_join());
    }
    IGNITE_TRY_ASSIGN(p.pipes, make_pipes(filter_.notify_kills(), spec.output || spec.egress));
    RunPipes& pipes = p.pipes;
    const std::string export_path = spec.output ? spec.output->target.string() : "";
    CStrings argv(spec.argv), envp(spec.env);
    const std::string workdir = spec.workdir.string();
    auto rlimits = sandbox_rlimits(spec.limits, p.cgroup.has_value());
    ChildArgs args{.plan = &p.plan,
                   .workdir = workdir.c_str(),
                   .argv = argv.get(),
                   .envp = envp.get(),
                   .seccomp = filter_.program(),
                   .seccomp_listener = filter_.notify_kills(),
                   .rlimits = rlimits.data(),
                   .rlimit_count = static_cast<int>(rlimits.size()),
                   .uid = identity.uid,
                   .gid = identity.gid,
                   .in_user_namespace = p.in_user_namespace,
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
    int cgroup_dir = -1;  // v2: CLONE_INTO_CGROUP
    if (layout_.version == CgroupVersion::v1) {
      if (join_fds.size() > std::size(args.cgroup_fds)) return fail(ErrorCode::internal, "too many cgroup hierarchies");
      for (std::size_t i = 0; i < join_fds.size(); ++i) args.cgroup_fds[i] = join_fds[i].get();
    } else if (!join_fds.empty()) {
      cgroup_dir = join_fds.front().get();
    }

    // spawn
    IGNITE_TRY_ASSIGN(Spawned spawned, spawn(args, spec.limits.network, cgroup_dir));
    sys::ChildProcess init = std::move(spawned.init);
    p.parent_joins_cgroup = p.cgroup && cgroup_dir >= 0 && !spawned.into_cgroup;
    for (sys::Fd* fd : {&pipes.sync.read, &pipes.report.write, &pipes.exec.write, &pipes.in.read,
                        &pipes.out.write, &pipes.err.write, &pipes.notify_child, &pipes.handover_child})
      fd->reset();
    join_fds.clear();
    // Whatever fails from here on, `slot` kills init and removes everything.
    auto slot = std::make_unique<NativeSlot>(std::move(p), std::move(init));
    IGNITE_TRY(slot->join());
    if (spec.warm) IGNITE_TRY(slot->warm_up(kWarmUpTimeout));
    return std::unique_ptr<Slot>(std::move(slot));
  }

 private:
  static CgroupLimits cgroup_limits(const Limits& l) {
    return {.memory_max_bytes = l.memory_bytes, .pids_max = l.max_processes, .cpu_cores = l.cpu_cores};
  }

  struct Spawned {
    sys::ChildProcess init;
    bool into_cgroup = false;  // born in `cgroup_dir` (CLONE_INTO_CGROUP)
  };

  // `cgroup_dir` (v2, else -1): init is born in that cgroup. A kernel without CLONE_INTO_CGROUP
  // (before 5.7) refuses the flag; init is then cloned without it and join() moves it.
  static Result<Spawned> spawn(const ChildArgs& args, bool network, int cgroup_dir) {
    std::uint64_t flags = CLONE_PIDFD | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS |
                          CLONE_NEWCGROUP;
    if (!network) flags |= CLONE_NEWNET;  // a fresh network namespace: only a loopback, down
    if (args.in_user_namespace) flags |= CLONE_NEWUSER;
    int pidfd = -1;
    clone_args ca{};
    ca.flags = flags;
    ca.pidfd = reinterpret_cast<std::uint64_t>(&pidfd);
    ca.exit_signal = SIGCHLD;
    if (cgroup_dir >= 0) {
      ca.flags |= CLONE_INTO_CGROUP;
      ca.cgroup = static_cast<__u64>(static_cast<unsigned>(cgroup_dir));
    }
    long pid = ::syscall(SYS_clone3, &ca, sizeof ca);
    if (pid < 0 && cgroup_dir >= 0 && (errno == EINVAL || errno == E2BIG)) {
      ca.flags = flags;
      ca.cgroup = 0;
      pid = ::syscall(SYS_clone3, &ca, sizeof ca);
    }
    if (pid < 0) return fail(Error::from_errno("clone3"));
    if (pid == 0) child_main(args);  // never returns
    return Spawned{sys::ChildProcess(static_cast<pid_t>(pid), sys::Fd(pidfd)), (ca.flags & CLONE_INTO_CGROUP) != 0};
  }

  NativeConfig config_;
  CgroupLayout layout_;
  SeccompFilter filter_;
  IdPool ids_;
  std::array<std::array<char*, 2>, 2> wipe_;
};

}  // namespace

std::vector<RlimitSetting> sandbox_rlimits(const Limits& l, bool have_cgroup) {
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
  SeccompFilter filter = default_seccomp_filter(kernel_has_user_notif(config.proc));
  IGNITE_TRY(sys::ensure_owned_dir(config.scratch_root, 0700));
  if (config.private_inodes && !kernel_has_overlayfs(config.proc)) {
    spdlog::warn("no overlayfs in this kernel: concurrent runs share the inodes of read-only files");
    config.private_inodes = false;
  }
  return std::unique_ptr<Backend>(
      new NativeBackend(std::move(config), std::move(layout), std::move(filter)));
}

}  // namespace ignite::sandbox::native
