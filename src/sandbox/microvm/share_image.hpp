// The VM's share as a disk image, for a VMM without 9p (Firecracker): a read-only squashfs of
// exactly the share's entries (<name> at its root, as the 9p export would show them), built by
// mksquashfs in a mount namespace of its own where the entries are bound (vmm_process.hpp). The
// image is the VM's own, in its scratch dir: nothing of one run reaches another's disk.
#pragma once
#include <filesystem>
#include <vector>

#include "core/result.hpp"
#include "sandbox/microvm/vm_image.hpp"
#include "sandbox/microvm/vmm_process.hpp"

namespace ignite::sandbox::microvm {

struct ShareImage {
  std::filesystem::path mksquashfs;  // squashfs-tools
  std::filesystem::path share;       // an empty dir: the entries are assembled on it
  std::filesystem::path image;       // written: the image
  std::filesystem::path log;         // mksquashfs's output, appended (its errors name host paths)
};

// mksquashfs's command line: uncompressed (TCG and KVM alike read it without inflating; the
// image lives as long as its VM), without xattrs, ownership and modes kept as the host has them.
std::vector<std::string> mksquashfs_argv(const ShareImage& how);

// Builds the image before `deadline` (else kills the builder: unavailable, with the reason).
Status build_share_image(const ShareImage& how, const std::vector<ShareEntry>& entries, Deadline deadline);

}  // namespace ignite::sandbox::microvm
