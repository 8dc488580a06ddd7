// The microvm backend: each sandbox is a single-use microVM with its own guest kernel between
// the program and the host, booted by QEMU (machine `microvm`) or Firecracker
// (firecracker_vmm.hpp). The guest boots an initramfs holding only our static agent
// (src/guest/), which receives the job over a virtio-serial port or vsock (the host side is a
// Unix socket either way), builds the job's root from the mount plan out of the host's share
// (read-only: over 9p, or as squashfs disks), runs the job under a cgroup v2 of the guest, and
// returns the result.
// No network device. Hardware KVM only when kvm_intel/kvm_amd are loaded; else TCG (emulation:
// tens of times slower, for testing). VMs boot, or are restored from a template of their shape
// (vm_template.hpp). Not built yet: warm bootstraps in the guest, writable mounts, network.
#pragma once
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>

#include "core/result.hpp"
#include "core/spec.hpp"
#include "sandbox/backend.hpp"
#include "sandbox/microvm/runtime_disk.hpp"
#include "sandbox/microvm/vmm_jail.hpp"

namespace ignite::sandbox::microvm {

// The VMM that boots the VMs. QEMU (microvm machine) runs everywhere, under KVM or emulated;
// Firecracker needs hardware KVM, and gets the share as disk images and the agent over vsock.
enum class Vmm { qemu, firecracker };

struct MicroVmConfig {
  Vmm vmm = Vmm::qemu;
  std::string vmm_reason;          // why this VMM (for `ignite doctor`)
  std::filesystem::path qemu;      // qemu-system-x86_64 (the QEMU driver)
  std::filesystem::path firecracker;  // the firecracker binary (the Firecracker driver)
  std::filesystem::path kernel;  // the guest kernel (scripts/guest-kernel builds and caches it)
  // A stock kernel's driver modules (Debian's, scripts/guest-kernel-debian: the files in a
  // modules/ dir beside it, in load order), packed into each VM's initramfs for the agent to
  // load. Such a kernel has no 9p: its VMs take their share on disks. Empty: our own kernel.
  std::vector<std::filesystem::path> kernel_modules;
  std::filesystem::path agent;   // ignite-guest-agent (static)
  // Per-VM dirs (initramfs, agent socket, console log): the instance's private dir.
  std::filesystem::path scratch_root = "/run/ignite";
  std::uint32_t tsc_khz = 0;
  bool kvm = false;
  unsigned max_cpus = 1;
  // From QEMU's start to the agent's hello; generous: TCG boots take 1-3 s, more under load.
  std::chrono::milliseconds boot_timeout = std::chrono::seconds(60);
  // How long past the job's wall-time limit the host waits for the agent's result before it
  // kills QEMU itself (the agent enforces the limit in the guest; this is the backstop).
  std::chrono::milliseconds kill_grace = std::chrono::seconds(15);
  Limits ceilings = kBackendCeilings;
  // Restore each VM from a template of its shape (vm_template.hpp) instead of booting it: the
  // first VM of a shape pays a boot and a save (~0.1 s more), every later one starts in ~0.15 s
  // instead of 1-3 s (TCG). For long-lived processes (serve, worker, mcp); a one-shot `ignite
  // exec` runs one VM, which the extra save only slows.
  bool templates = false;
  // The share as a read-only squashfs disk image (share_image.hpp) instead of 9p: what a VMM
  // without 9p needs. Built per VM from its entries (mksquashfs copies them: seconds for a
  // runtime's libraries), so not with templates. Off for QEMU, which has 9p.
  bool share_disks = false;
  std::filesystem::path mksquashfs;  // squashfs-tools; empty: not installed
  std::filesystem::path passt;       // a `network: true` VM's network (user_network.hpp); empty: not installed
  // With the share on disks: the runtime's files come from its disk (runtime_disk.hpp), built
  // once into this cache (`ignite images build --microvm`, else by the first VM that needs it),
  // and each VM's own image holds only the rest (the job's files). A runtime whose disk cannot
  // be had goes into each VM's image as before (logged once).
  RuntimeDiskCache runtime_disks;
  // Each VMM's jail (vmm_jail.hpp): the uid pool every backend shares, the instance's tag for
  // the VMMs' cgroups, and which cgroups a dead Ignite left.
  VmmJailer::Config jail;
};

// What this host offers: the VMM, the guest kernel (guest_kernel(), and a stock kernel's
// modules), the agent beside ignite
// ($IGNITE_GUEST_AGENT), the TSC frequency and the accelerator. `unavailable` with the remedy.
// The VMM: $IGNITE_VMM (qemu or firecracker) when set; else QEMU where it is installed, and
// Firecracker (its binary on PATH or $IGNITE_FIRECRACKER) where it is not but hardware KVM is.
Result<MicroVmConfig> detect_microvm_config(const std::filesystem::path& scratch_root);

// Where guest artefacts are cached: $IGNITE_GUEST_CACHE, else /var/cache/ignite/guest (the
// guest kernels, scripts/guest-kernel; the runtime disks under runtimes/).
std::filesystem::path guest_cache_dir();

// The runtime disks' cache (<guest_cache_dir()>/runtimes) and sqfstar from PATH.
RuntimeDiskCache runtime_disk_cache();

// The guest kernel a VM would boot ($IGNITE_GUEST_KERNEL, else the newest we built in the
// cache, else Debian's stock kernel fetched there, scripts/guest-kernel-debian).
std::optional<std::filesystem::path> guest_kernel();

// Hardware KVM is proven only by kvm_intel or kvm_amd: a PVM host serves /dev/kvm (and
// KVM_CREATE_VM succeeds) but boots no ordinary guest.
bool hardware_kvm();

Result<std::unique_ptr<Backend>> make_microvm_backend(MicroVmConfig config);

}  // namespace ignite::sandbox::microvm
