// Kernel modules for a guest on Debian's stock kernel (scripts/guest-kernel-debian), whose VM
// drivers (virtio over MMIO, the console port, disks, squashfs, overlay, the NIC, vsock) are
// modules: the host packs them into the initramfs as /modules/NN-<name>.ko, numbered in load
// order, and the agent loads them before it looks for any device. Our own kernel has them
// built in, and its initramfs has no /modules.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace ignite::guest {

inline constexpr const char* kModulesDir = "/modules";

// "02-virtio-rng.ko" -> "virtio_rng" (the kernel treats - and _ in names alike).
std::string module_name(std::string_view file);

// The parameters the kernel command line gives `module` ("virtio_mmio.device=4K@0xfeb00e00:12"
// -> "device=4K@0xfeb00e00:12"), space-separated: what modprobe passes, since the kernel applies
// them itself only to built-in code. QEMU's microvm writes one virtio_mmio.device= per device.
std::string module_params(std::string_view module, std::string_view cmdline);

// Loads every module in `dir` in name order; one line per module that failed (a module already
// there is no failure). Nothing when `dir` does not exist.
std::vector<std::string> load_modules(const char* dir, std::string_view cmdline);

}  // namespace ignite::guest
