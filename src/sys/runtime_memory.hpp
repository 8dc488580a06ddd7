// The runtime dir in memory. What Ignite keeps there (instance dirs, id locks, staged code,
// scratch dirs) lives as long as a run and is created and removed on every run: a tmpfs is its
// place, as /run is a tmpfs on systemd hosts. Where it is a disk instead, about twenty entries
// made and removed per `ignite exec` go through the filesystem's journal (about 2 ms on ext4 here,
// docs/performance.md). So the first instance on such a host mounts a tmpfs over the runtime
// dir, once, for every later one.
//
// Mounting over a dir that a live instance uses would hide its files and split the id locks
// (two sandboxes could get one uid), so the decision is made under an exclusive flock on the
// disk dir, only while that dir is unused (an empty `instances`, nothing but `ids` besides),
// and every instance that finds the dir still on a disk registers under that same lock.
#pragma once
#include <filesystem>

#include "core/result.hpp"
#include "sys/fd.hpp"

namespace ignite::sys {

// Call with `root` existing and trusted (ensure_owned_dir). Returns an empty Fd when `root` is
// (now) a tmpfs; otherwise the disk dir with an exclusive flock, to be held until this
// instance is registered. A failed mount (no CAP_SYS_ADMIN, a read-only host) is no error:
// the runtime dir stays where it is.
Result<Fd> settle_runtime_dir_in_memory(const std::filesystem::path& root);

// Whether the dir `fd` refers to is on a tmpfs (or ramfs).
bool on_tmpfs(int fd);

}  // namespace ignite::sys
