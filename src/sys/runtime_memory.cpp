#include "sys/runtime_memory.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "sys/dir_names.hpp"
#include "sys/files.hpp"

namespace ignite::sys {
namespace {

namespace fs = std::filesystem;

// Unused: nothing but `ids` (locks nobody holds without a live instance) and an empty
// `instances`. Anything else may be a live run's (or an older Ignite's) and is left visible.
bool unused(int root) {
  std::vector<std::string> names;  // two are allowed: a third is something else
  if (sorted_dir_names(root, 2, names) != 0) return false;
  for (const auto& name : names) {
    if (name == "ids") continue;
    if (name != "instances") return false;
    const Fd instances(::openat(root, "instances", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    std::vector<std::string> inside;
    if (!instances || sorted_dir_names(instances.get(), 0, inside) != 0 || !inside.empty()) return false;
  }
  return true;
}

}  // namespace

bool on_tmpfs(int fd) {
  struct statfs fs {};
  return ::fstatfs(fd, &fs) == 0 && (fs.f_type == TMPFS_MAGIC || fs.f_type == RAMFS_MAGIC);
}

Result<Fd> settle_runtime_dir_in_memory(const fs::path& root) {
  Fd dir(::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!dir) return fail(Error::from_errno("open " + root.string()));
  if (on_tmpfs(dir.get())) return Fd{};
  if (::flock(dir.get(), LOCK_EX) != 0) return fail(Error::from_errno("lock " + root.string()));
  // Another instance mounted the tmpfs while we waited: the path is in memory now.
  if (!still_named(dir.get(), root)) return Fd{};
  if (unused(dir.get())) {
    // Private to root like the dir it covers; no devices or set-id files, but executable:
    // staged programs (a compiled Go binary) run from here. Over the very dir we checked and
    // hold, through its fd, not over whatever the path names by now.
    const std::string target = "/proc/self/fd/" + std::to_string(dir.get());
    if (::mount("ignite", target.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700") == 0) {
      spdlog::debug("mounted a tmpfs over {} (it was on a disk)", root.string());
      return Fd{};
    }
    spdlog::debug("{} stays on its disk: tmpfs mount failed: {}", root.string(), std::strerror(errno));
  }
  return dir;
}

}  // namespace ignite::sys
