// Runtime disks: a runtime's files as one read-only squashfs image, built once per runtime
// version and content and shared by every VM of that runtime, for VMs whose share travels on
// disks (Firecracker, or QEMU with share_disks). Without one, each VM's own share image copies
// the runtime's trees (a runtime's library dir is 1.1 GB here) before it boots.
//
// What is in it is what the docker backend's runtime image holds (docker/image_contents.hpp):
// the runtime's mounts at their places in the sandbox, and of the big library dirs only the
// libraries its ELF files need. The image's root is the tar's: `rootfs/<path in the sandbox>`,
// so the guest finds a mount at /host/rootfs/<path> once the disk is part of its share's union.
// Built by sqfstar from the same tar stream the docker build reads (docker/image_context.hpp).
//
// Cached as <dir>/<name>-<version>-<12 hex>.sqfs, the hash over what went in (paths, modes,
// sizes, mtimes): a changed runtime gets a new disk, an unchanged one is found again. Security:
// the dir is ours alone (0700, root's); a disk is written under a temporary name and renamed
// into place whole, so a VM never attaches a half-written one; the guest gets it read-only.
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "core/result.hpp"
#include "docker/image_context.hpp"
#include "runtime/catalog.hpp"
#include "sandbox/microvm/vmm_process.hpp"

namespace ignite::sandbox::microvm {

// Part of every disk's hash: bump it when what goes into a disk changes in this code.
inline constexpr std::string_view kRuntimeDiskFormat = "ignite-runtime-disk/1";
// Where the disk's files are in the guest's share: <kGuestShare>/rootfs/<path in the sandbox>.
inline constexpr std::string_view kRuntimeDiskRoot = ::ignite::docker::kContextRoot;

struct RuntimeDiskCache {
  std::filesystem::path dir;      // $IGNITE_GUEST_CACHE/runtimes by default
  std::filesystem::path sqfstar;  // squashfs-tools; empty: not installed
};

struct RuntimeDisk {
  std::filesystem::path image;
  // The runtime's mounts the disk holds, by host source: the source's path in the guest
  // (/host/rootfs/usr/lib/python3.11). shared_plan takes these instead of sharing the source.
  std::map<std::string, std::string> sources;
  std::uint64_t size_bytes = 0;
  bool built = false;  // by this call (else it was in the cache)
  std::vector<std::string> unresolved;  // libraries some file of the runtime needs that are missing
};

// The disk of `rt` from the cache, or built into it (every time with `rebuild`) before
// `deadline`. Older disks of the same runtime version are removed once a new one is in place
// (a VM still using one keeps its open file). Fails with `unavailable` when sqfstar is missing
// or fails, with the lister's errors (a runtime whose binary needs a library that is missing).
Result<RuntimeDisk> ensure_runtime_disk(const RuntimeDiskCache& cache, const runtime::Installed& rt, bool rebuild,
                                        Deadline deadline);

// sqfstar's command line: uncompressed, like the per-VM images (share_image.hpp), owned by root,
// without the build context's Dockerfile.
std::vector<std::string> sqfstar_argv(const std::filesystem::path& sqfstar, const std::filesystem::path& image);

}  // namespace ignite::sandbox::microvm
