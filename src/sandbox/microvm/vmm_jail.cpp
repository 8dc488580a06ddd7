#include "sandbox/microvm/vmm_jail.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

namespace ignite::sandbox::microvm {

namespace fs = std::filesystem;

int VmmJail::pass_fd(sys::Fd file) {
  files_.push_back(std::move(file));
  return kJailFirstFd + static_cast<int>(files_.size()) - 1;
}

std::string VmmJail::pass(sys::Fd file) { return "/proc/self/fd/" + std::to_string(pass_fd(std::move(file))); }

Result<VmPlan> VmmJail::inputs(VmPlan plan) {
  plan.cwd = dir_;
  if (!active()) return plan;
  std::vector<fs::path*> files = {&plan.kernel, &plan.initramfs};
  for (auto& disk : plan.share_disks) files.push_back(&disk);  // a runtime's disk lies in the cache
  for (fs::path* file : files) {
    if (fs::path(vmm_path(*file, dir_)).is_relative()) continue;  // in its dir: it opens it itself
    sys::Fd fd(::open(file->c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return fail(Error::from_errno("microvm: open " + file->filename().string() + " for the VMM"));
    *file = pass(std::move(fd));
  }
  return plan;
}

JailView VmmJail::view() const {
  JailView v;
  v.uid = uid_;
  v.dir = dir_;
  v.kvm = kvm_;
  for (const auto& fd : join_) v.cgroup_join.push_back(fd.get());
  for (const auto& fd : files_) v.files.push_back(fd.get());
  return v;
}

native::CgroupLimits vmm_limits(std::uint64_t memory_mib, unsigned cpus, bool kvm) {
  // Measured (metrics.vm.memoryPeakBytes, TCG): QEMU's peak RSS is 158 MiB for python's
  // print(1), and 567 MiB for a 400 MiB string in a 704 MiB VM: the guest RAM touched plus
  // ~150 MiB of QEMU's own. TCG's translation cache grows with the code the guest runs (up to
  // its 1 GiB default), so its share is generous. Over this, the kernel kills the VMM: the run
  // ends as the VM's failure, and the host keeps its memory.
  const std::uint64_t own_mib = kvm ? 256 : 768;
  return {.memory_max_bytes = (memory_mib + own_mib) << 20,
          // QEMU: its main loop, RCU, one thread per vCPU, and a pool of up to 64 I/O workers (9p).
          .pids_max = 256,
          .cpu_cores = static_cast<double>(cpus) + 1.0};
}

VmmJailer::VmmJailer(Config config)
    : config_(std::move(config)), layout_(native::ready_cgroups(config_.proc, config_.stale)),
      ids_(config_.id_lock_dir, config_.first_id, config_.id_count) {
  if (layout_.version == native::CgroupVersion::none)
    spdlog::warn("microvm: the VMM processes run without a cgroup of their own: {}", layout_.describe());
}

Result<VmmJail> VmmJailer::make(const fs::path& dir, const native::CgroupLimits& limits) {
  VmmJail jail;
  if (::geteuid() != 0) return jail;  // no ids to give: the VMM runs as its caller
  IGNITE_TRY_ASSIGN(native::IdPool::Lease lease, ids_.acquire());
  jail.uid_ = lease.id();
  jail.lease_.emplace(std::move(lease));
  jail.dir_ = dir;
  // The VMM creates its sockets and console log here, and nothing else of the host is its.
  if (::chown(dir.c_str(), jail.uid_, jail.uid_) != 0)
    return fail(Error::from_errno("microvm: chown the VM's dir to its VMM's uid"));
  if (layout_.version != native::CgroupVersion::none) {
    IGNITE_TRY_ASSIGN(native::Cgroup cg,
                      native::Cgroup::create(layout_, config_.run_prefix + dir.filename().string(), limits));
    jail.cgroup_.emplace(std::move(cg));
    IGNITE_TRY_ASSIGN(std::vector<sys::Fd> join, jail.cgroup_->open_for_join());
    for (auto& fd : join) {
      // The spawned child writes "0" to each: v1's `tasks` files as they are; v2's dir gives its
      // cgroup.procs (a fork, not clone3: CLONE_INTO_CGROUP is not to be had there).
      if (layout_.version == native::CgroupVersion::v2) {
        sys::Fd procs(::openat(fd.get(), "cgroup.procs", O_WRONLY | O_CLOEXEC));
        if (!procs) return fail(Error::from_errno("microvm: open the VMM cgroup's cgroup.procs"));
        fd = std::move(procs);
      }
      jail.join_.push_back(std::move(fd));
    }
  }
  return jail;
}

}  // namespace ignite::sandbox::microvm
