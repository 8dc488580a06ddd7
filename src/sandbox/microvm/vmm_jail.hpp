// The VMM's own confinement, the next boundary after the guest kernel: what Firecracker's jailer
// does, for both VMMs. Each VMM process (QEMU or firecracker, a VM's or a template's) runs
//   - as a uid of its own, leased from the pool every backend shares (native::IdPool), so it
//     reads only what any unprivileged user may, and no two VMMs can signal or ptrace each other;
//   - with no capabilities, no_new_privs, and its own seccomp filter (QEMU's -sandbox,
//     Firecracker's built-in one);
//   - in a cgroup of its own: memory (the guest's RAM plus the VMM's own), pids and CPU limits;
//   - in empty network and IPC namespaces (a `network: true` VM's NIC is a socket to passt,
//     user_network.hpp) and a mount namespace of its own, whose root holds its VM's dir and
//     the system's program dirs only (vmm_root.hpp);
//   - with the VM's dir (owned by that uid) as its cwd: every path it is given is relative to it
//     (it cannot reach the dir from /: the instance dir above it is root's, 0700). What it must
//     read from elsewhere (the guest kernel, a template's RAM and initramfs) it gets as open
//     descriptors, named /proc/self/fd/N.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "sandbox/microvm/vm_image.hpp"
#include "sandbox/native/cgroup.hpp"
#include "sandbox/native/cgroup_layout.hpp"
#include "sandbox/native/id_pool.hpp"
#include "sys/fd.hpp"

namespace ignite::sandbox::microvm {

// What the spawned VMM process does before its exec (vmm_process.cpp), as plain data.
struct JailView {
  unsigned uid = 0;                       // 0: no jail (stays root)
  std::filesystem::path dir;              // its cwd
  std::vector<int> cgroup_join;           // native::Cgroup::open_for_join's fds: "0" written to each
  std::vector<int> files;                 // become its descriptors 3, 4, ... (kJailFirstFd)
  bool kvm = false;  // /dev/kvm in its root (vmm_root.hpp)
};
inline constexpr int kJailFirstFd = 3;

// One VMM's jail, held for the VMM's life. Destroyed after the VMM is reaped (VmParts' order):
// the cgroup's stragglers are killed and the cgroup removed, then the uid goes back to the pool.
class VmmJail {
 public:
  VmmJail() = default;
  VmmJail(VmmJail&&) noexcept = default;
  VmmJail& operator=(VmmJail&&) = delete;

  // A file the VMM gets as a descriptor (kept open by the jail until the spawn, jailed or not):
  // its name for the VMM, /proc/self/fd/N; pass_fd: N.
  std::string pass(sys::Fd file);
  int pass_fd(sys::Fd file);
  // The plan's kernel, initramfs and share disks, where they lie outside the jailed VMM's dir, opened here
  // and passed (the VMM could not reach them); the plan's cwd set to the jail's dir.
  Result<VmPlan> inputs(VmPlan plan);

  // What this VM's VMM needs of the host besides its dir (JailView): /dev/kvm (hardware KVM).
  // (A `network: true` run's NIC is a socket it is passed: its network namespace stays empty.)
  void needs_kvm(bool kvm) noexcept { kvm_ = kvm; }

  JailView view() const;
  bool active() const noexcept { return uid_ != 0; }
  unsigned uid() const noexcept { return uid_; }
  // The VMM's cwd (empty: not jailed): what VmPlan::cwd and vmm_path take.
  const std::filesystem::path& dir() const noexcept { return dir_; }
  // After the spawn: the descriptors were the child's to take; the parent's copies go.
  void spawned() { files_.clear(); join_.clear(); }

 private:
  friend class VmmJailer;
  std::optional<native::IdPool::Lease> lease_;
  std::optional<native::Cgroup> cgroup_;  // destroyed before the lease
  std::vector<sys::Fd> join_;
  std::vector<sys::Fd> files_;
  std::filesystem::path dir_;
  unsigned uid_ = 0;
  bool kvm_ = false;
};

// The VMM's cgroup limits for a VM of `memory_mib` and `cpus`: the guest's RAM plus the VMM's
// own memory (TCG's translation cache is the largest part), its threads, its vCPUs plus one.
native::CgroupLimits vmm_limits(std::uint64_t memory_mib, unsigned cpus, bool kvm);

// Makes jails: the backend's one, for every VM and template.
class VmmJailer {
 public:
  struct Config {
    std::filesystem::path id_lock_dir = "/run/ignite/ids";  // the pool every backend shares
    unsigned first_id = 60000;
    unsigned id_count = 1000;
    std::string run_prefix;  // the instance's tag: stale cgroups are found by it
    std::function<bool(std::string_view cgroup_name)> stale;  // collected at start
    std::filesystem::path proc = "/proc";
  };
  explicit VmmJailer(Config config);

  // A jail for the VMM that will run in `dir` (which it then owns), named after it.
  Result<VmmJail> make(const std::filesystem::path& dir, const native::CgroupLimits& limits);

 private:
  Config config_;
  native::CgroupLayout layout_;
  native::IdPool ids_;
};

}  // namespace ignite::sandbox::microvm
