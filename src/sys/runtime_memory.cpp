#include "sys/runtime_memory.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

namespace ignite::sys {
namespace {

namespace fs = std::filesystem;

// Whether `path` still names the dir `fd` was opened from (and not what was mounted over it).
bool still_at(int fd, const fs::path& path) {
  struct stat held {}, named {};
  return ::fstat(fd, &held) == 0 && ::stat(path.c_str(), &named) == 0 && held.st_ino == named.st_ino &&
         held.st_dev == named.st_dev;
}

// Visits the entries of the dir `fd` other than "." and ".." until `visit` says false;
// whether it never did.
template <class Visit>
bool each_entry(int fd, Visit visit) {
  const int copy = ::openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (copy < 0) return false;
  DIR* dir = ::fdopendir(copy);
  if (!dir) {
    ::close(copy);
    return false;
  }
  bool all = true;
  while (const dirent* e = ::readdir(dir)) {
    const std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    if (!visit(name)) {
      all = false;
      break;
    }
  }
  ::closedir(dir);
  return all;
}

// Unused: nothing but `ids` (locks nobody holds without a live instance) and an empty
// `instances`. Anything else may be a live run's (or an older Ignite's) and is left visible.
bool unused(int root) {
  return each_entry(root, [root](std::string_view name) {
    if (name == "ids") return true;
    if (name != "instances") return false;
    const Fd instances(::openat(root, "instances", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    return instances && each_entry(instances.get(), [](std::string_view) { return false; });
  });
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
  if (!still_at(dir.get(), root)) return Fd{};
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
