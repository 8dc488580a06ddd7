// What one microVM boots: its initramfs (our static agent as /init, nothing else) and QEMU's
// command line. Pure functions, so the parts that decide isolation (no network device, the
// host's root read-only, memory from the limit) are unit-tested as data.
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "core/spec.hpp"
#include "sandbox/native/mount_plan.hpp"

namespace ignite::sandbox::microvm {

// Where the agent mounts the VM's 9p share in the guest.
inline constexpr std::string_view kGuestShare = "/host";

// One host path the VM's share holds, as <share dir>/<name> (bound there read-only, in QEMU's
// own mount namespace, just before QEMU starts).
struct ShareEntry {
  std::string source;  // on the host
  std::string name;    // "0", "1", ...
  bool is_dir = false;
};

// The job's root for `spec`: the native backend's mount plan (assembled at /job in the guest),
// with each read-only bind's host source replaced by its place in the share (/host/<name>).
// Security: the guest sees only these sources, never the host's whole root.
// `premade`: sources a disk of the share already holds (a runtime disk, runtime_disk.hpp), by
// their path in the guest; those binds take that path and are not among the entries.
struct SharedPlan {
  std::vector<native::MountOp> ops;
  std::vector<ShareEntry> share;
  native::SandboxIdentity id;
};
Result<SharedPlan> shared_plan(const SandboxSpec& spec, const std::map<std::string, std::string>& premade = {});

// One entry of a newc ("070701") cpio archive, the format the kernel unpacks as initramfs.
struct CpioEntry {
  std::string path;  // relative, no leading '/': "init", "dev/console"
  std::uint32_t mode = 0;  // type and permission bits (S_IFDIR | 0755, ...)
  std::string content;     // regular files only
  std::uint32_t rdev_major = 0, rdev_minor = 0;  // character devices only
};

// The archive, entries in order, with the "TRAILER!!!" record (uncompressed: the kernel takes it
// as it is and TCG spends no time inflating).
std::string cpio_newc(const std::vector<CpioEntry>& entries);

// The guest's initramfs: the mount points the agent uses, /dev/console, the agent as /init, and
// a stock kernel's modules as /modules/<name> (guest/guest_modules.hpp; none for ours).
struct InitramfsFile {
  std::string name;
  std::string content;
};
std::string agent_initramfs(std::string_view agent_binary, const std::vector<InitramfsFile>& modules = {});

struct VmPlan {
  std::filesystem::path qemu;
  std::filesystem::path kernel;     // an uncompressed vmlinux (PVH entry)
  std::filesystem::path initramfs;
  std::filesystem::path share;      // the dir QEMU exports read-only over 9p (ShareEntry's)
  // Instead of the 9p export: the share as read-only squashfs images on virtio-blk disks
  // (share_image.hpp), the way a VMM without 9p (Firecracker) gives it; the agent mounts their
  // union at /host. Not with templates: a clone would keep its template's disks.
  std::vector<std::filesystem::path> share_disks;
  std::filesystem::path socket;     // the agent channel: QEMU listens, the host connects
  std::filesystem::path console;    // the guest's serial console (and QEMU's own errors)
  std::uint64_t memory_mib = 256;
  unsigned cpus = 1;
  std::uint32_t tsc_khz = 0;        // 0: unknown (then boots may hang in calibration)
  bool kvm = false;                 // hardware KVM proven (kvm_intel/kvm_amd); else TCG
  // A `network: true` run: a virtio-net NIC whose other end is passt (user_network.hpp), on
  // the VMM's descriptor `network_fd`; the agent brings it up. Else no NIC at all (-nic none).
  // Not with templates: a clone keeps its template's devices.
  bool network = false;
  int network_fd = -1;
  // The devices described in ACPI tables (QEMU's microvm default) instead of on the kernel's
  // command line (acpi=off, faster to boot): for a stock kernel, whose virtio_mmio module
  // takes no virtio_mmio.device= (Debian's has no VIRTIO_MMIO_CMDLINE_DEVICES).
  bool acpi = false;
  // The jailed VMM's cwd (vmm_jail.hpp): the VM's dir. Set: the paths inside it are given to the
  // VMM relative to it (vmm_path), since a jailed VMM cannot reach it from /.
  std::filesystem::path cwd;
  // VM templates (vm_template.hpp). The guest's RAM in a file: a template writes it (shared); a
  // clone maps it privately, copy-on-write, so nothing a clone does reaches the file.
  std::filesystem::path ram_file;  // empty: anonymous RAM
  bool ram_shared = false;
  std::filesystem::path qmp;       // QEMU's control socket; empty: none
  bool incoming = false;           // restore a saved state (-incoming defer) instead of booting
};

// The VM's memory: the job's limit plus what the guest kernel, the agent, the 9p page cache and
// the job's root tmpfs need around it, in MiB.
std::uint64_t vm_memory_mib(std::uint64_t job_memory_bytes);

std::vector<std::string> qemu_argv(const VmPlan& plan);

// `path` as a VMM whose cwd is `cwd` names it: relative when it lies inside `cwd`; as it is
// otherwise (and always when `cwd` is empty: an unjailed VMM).
std::string vmm_path(const std::filesystem::path& path, const std::filesystem::path& cwd);

// The kernel command line's words that tell the agent how it reaches the host (protocol.hpp):
// where its share is (9p, or the disks' union) and, under Firecracker, its vsock port.
std::string agent_boot_args(const VmPlan& plan, std::uint32_t vsock_port = 0);

}  // namespace ignite::sandbox::microvm
