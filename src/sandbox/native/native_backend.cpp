#include "sandbox/native/native_backend.hpp"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <optional>

#include <spdlog/spdlog.h>

#include "sandbox/native/cgroup.hpp"
#include "sandbox/native/id_pool.hpp"
#include "sandbox/native/child.hpp"
#include "sandbox/native/init_launch.hpp"
#include "sandbox/native/seccomp_filter.hpp"
#include "sandbox/native/native_slot.hpp"
#include "sandbox/native/spare_init.hpp"
#include "sys/c_strings.hpp"
#include "sys/child_process.hpp"
#include "sys/files.hpp"
#include "sys/helper_binary.hpp"
#include "sys/owned_dir.hpp"
#include "sys/pipe.hpp"
#include "sys/temp_dir.hpp"

namespace ignite::sandbox::native {
namespace {

using Clock = std::chrono::steady_clock;

// A bootstrap loads its runtime within this (deno, the slowest, takes ~0.1 s on this machine).
constexpr std::chrono::seconds kWarmUpTimeout{10};

// argv/envp as the NULL-terminated char* arrays ChildArgs carries (encoded for the init).
class CStrings {
 public:
  explicit CStrings(const std::vector<std::string>& strings)
      : storage_(strings), ptrs_(sys::c_string_pointers(storage_)) {}
  char* const* get() const { return ptrs_.data(); }

 private:
  std::vector<std::string> storage_;
  std::vector<char*> ptrs_;
};

class NativeBackend final : public Backend {
 public:
  NativeBackend(NativeConfig config, CgroupLayout layout, SeccompFilter filter, sys::Fd init_binary)
      : config_(std::move(config)),
        layout_(std::move(layout)),
        filter_(std::move(filter)),
        init_binary_(std::move(init_binary)),
        ids_(config_.id_lock_dir, config_.first_id, config_.id_count) {
    if (config_.spare_init)
      spare_.emplace(SpareRecipe{config_.scratch_root, &layout_, config_.run_prefix, filter_.notify_kills(),
                                 init_binary_.get()});
  }

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
    // A spare's scratch dir, when there is a spare that fits (its init comes below, after the
    // plan: it may still be executing ignite-sandbox-init meanwhile).
    std::optional<sys::TempDir> spare_scratch = spare_ ? spare_->take_scratch(spec.limits.network) : std::nullopt;
    const bool took_spare = spare_scratch.has_value();
    if (!spare_scratch) {
      IGNITE_TRY_ASSIGN(sys::TempDir scratch, sys::TempDir::create(config_.scratch_root, "run-"));
      spare_scratch.emplace(std::move(scratch));
    }
    p.scratch.emplace(std::move(*spare_scratch));
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
    IGNITE_TRY_ASSIGN(p.plan,
                      build_mount_plan(planned, root, identity, config_.private_inodes, config_.shared_empty));
    // The spare's init has its namespaces and has executed ignite-sandbox-init; it waits for
    // this run's arguments.
    std::optional<SpareInit> spare = took_spare ? spare_->take_init() : std::nullopt;
    std::vector<sys::Fd> join_fds;  // see Cgroup::open_for_join
    if (spare) {
      // Security: the limits hold before init is told to go on, long before the program exists.
      if (spare->cgroup) IGNITE_TRY(spare->cgroup->apply(cgroup_limits(spec.limits)));
      if (spare->cgroup) p.cgroup.emplace(std::move(*spare->cgroup));
      join_fds = std::move(spare->join_fds);
      p.pipes = std::move(spare->pipes);
      if (!spec.output && !spec.egress) {  // made for any run; init closes what ChildArgs does not name
        p.pipes.handover_parent.reset();
        p.pipes.handover_child.reset();
      }
    } else {
      if (layout_.version != CgroupVersion::none) {
        IGNITE_TRY_ASSIGN(Cgroup cg, Cgroup::create(layout_, run_cgroup_name(config_.run_prefix, *p.scratch),
                                                    cgroup_limits(spec.limits)));
        p.cgroup.emplace(std::move(cg));
      }
      if (p.cgroup) {
        IGNITE_TRY_ASSIGN(join_fds, p.cgroup->open_for_join());
      }
      IGNITE_TRY_ASSIGN(p.pipes, make_run_pipes(filter_.notify_kills(), spec.output || spec.egress));
    }
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
                   .export_path = spec.output ? export_path.c_str() : nullptr,
                   .egress_port = spec.egress ? spec.egress->port : std::uint16_t{0}};
    const bool v1 = layout_.version == CgroupVersion::v1;
    IGNITE_TRY(name_child_fds(args, pipes, v1 ? std::span<const sys::Fd>(join_fds) : std::span<const sys::Fd>()));
    // v2: CLONE_INTO_CGROUP (a spare was cloned into this same dir)
    const int cgroup_dir = !v1 && !join_fds.empty() ? join_fds.front().get() : -1;

    // spawn (or hand the spare its arguments)
    auto spawn = [&]() -> Result<LaunchedInit> {
      if (spare) return hand_arguments(*spare, args);
      return launch_init(init_binary_.get(), args, spec.limits.network, cgroup_dir);
    };
    IGNITE_TRY_ASSIGN(LaunchedInit spawned, spawn());
    sys::ChildProcess init = std::move(spawned.init);
    p.parent_joins_cgroup = p.cgroup && cgroup_dir >= 0 && !spawned.into_cgroup;
    for (sys::Fd* fd : {&pipes.sync.read, &pipes.report.write, &pipes.exec.write, &pipes.in.read,
                        &pipes.out.write, &pipes.err.write, &pipes.notify_child, &pipes.handover_child})
      fd->reset();
    join_fds.clear();
    spare.reset();
    // Whatever fails from here on, `slot` kills init and removes everything.
    auto slot = std::make_unique<NativeSlot>(std::move(p), std::move(init));
    IGNITE_TRY(slot->join());
    if (spec.warm) IGNITE_TRY(slot->warm_up(kWarmUpTimeout));
    return std::unique_ptr<Slot>(std::move(slot));
  }

 protected:
  void retire(std::unique_ptr<Slot> slot) override {
    auto& native = static_cast<NativeSlot&>(*slot);
    if (!config_.late_teardown || native.reaches_host()) return;  // destroyed here
    native.kill();
    std::lock_guard lock(retired_mutex_);
    retired_ = std::move(slot);  // and the one before, if any, is destroyed now
  }

 private:
  static CgroupLimits cgroup_limits(const Limits& l) {
    return {.memory_max_bytes = l.memory_bytes, .pids_max = l.max_processes, .cpu_cores = l.cpu_cores};
  }

  NativeConfig config_;
  CgroupLayout layout_;
  SeccompFilter filter_;
  sys::Fd init_binary_;  // ignite-sandbox-init (O_PATH), what each run's init executes
  IdPool ids_;
  std::optional<SpareStarter> spare_;  // NativeConfig::spare_init
  std::mutex retired_mutex_;
  std::unique_ptr<Slot> retired_;  // NativeConfig::late_teardown; last, so destroyed first
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

namespace {

// Security: a layer of every sandbox's runtime mounts, so it must be ours and stay empty (only
// its owner can write to it; a sandbox never can, the overlays are read-only).
bool usable_empty_dir(const std::filesystem::path& dir) {
  if (auto owned = sys::ensure_owned_dir(dir, 0755); !owned) {
    spdlog::debug("{} not used as the overlays' empty layer: {}", dir.string(), owned.error().message);
    return false;
  }
  std::error_code ec;
  const bool empty = std::filesystem::is_empty(dir, ec) && !ec;
  if (!empty) spdlog::warn("{} is not empty: the runs' own empty dirs are used instead", dir.string());
  return empty;
}

}  // namespace

bool kernel_has_overlayfs(const std::filesystem::path& proc) {
  auto text = sys::read_file(proc / "filesystems");
  return text && text->find("\toverlay\n") != std::string::npos;
}

namespace {

// Security: every run's init executes this as root, before it drops anything, so it must be as
// trustworthy as `ignite` itself: a regular file, owned by root or by us, that nobody else may
// write. Held open (O_PATH) so that what was checked is what runs.
Result<sys::Fd> open_init_binary(std::filesystem::path path) {
  if (path.empty()) {
    auto found = sys::helper_binary("IGNITE_SANDBOX_INIT", "ignite-sandbox-init");
    if (!found)
      return fail(ErrorCode::unavailable,
                  "ignite-sandbox-init is not installed next to ignite (it is built with it; $IGNITE_SANDBOX_INIT "
                  "names another)");
    path = *found;
  }
  sys::Fd fd(::open(path.c_str(), O_PATH | O_CLOEXEC));
  if (!fd) return fail(Error::from_errno("cannot open the sandbox init " + path.string()));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return fail(Error::from_errno("stat " + path.string()));
  if (!S_ISREG(st.st_mode) || (st.st_mode & 0111) == 0)
    return fail(ErrorCode::unavailable, "the sandbox init " + path.string() + " is not an executable file");
  if ((st.st_uid != 0 && st.st_uid != ::geteuid()) || (st.st_mode & 022) != 0)
    return fail(ErrorCode::permission_denied,
                fmt::format("the sandbox init {} may be changed by another user (owner uid {}, mode {:04o})",
                            path.string(), st.st_uid, st.st_mode & 07777));
  return fd;
}

}  // namespace

Result<std::unique_ptr<Backend>> make_native_backend(NativeConfig config) {
  CgroupLayout layout = ready_cgroups(config.proc, config.stale_run);
  if (layout.version == CgroupVersion::none && !config.allow_degraded) {
    return fail(ErrorCode::unsupported,
                "cannot enforce memory/process/CPU limits: " + layout.describe() +
                    " (run `ignite doctor`; --allow-degraded accepts rlimit-only limits)");
  }
  if (layout.version == CgroupVersion::none)
    spdlog::warn("DEGRADED isolation: {}; limits fall back to rlimits", layout.describe());
  IGNITE_TRY_ASSIGN(sys::Fd init_binary, open_init_binary(config.init_binary));
  SeccompFilter filter = default_seccomp_filter(kernel_has_user_notif(config.proc));
  IGNITE_TRY(sys::ensure_owned_dir(config.scratch_root, 0700));
  if (config.private_inodes && !kernel_has_overlayfs(config.proc)) {
    spdlog::warn("no overlayfs in this kernel: concurrent runs share the inodes of read-only files");
    config.private_inodes = false;
  }
  if (!config.shared_empty.empty() && !usable_empty_dir(config.shared_empty)) config.shared_empty.clear();
  return std::unique_ptr<Backend>(
      new NativeBackend(std::move(config), std::move(layout), std::move(filter), std::move(init_binary)));
}

}  // namespace ignite::sandbox::native
