#include "sys/owned_dir.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "sys/fd.hpp"

namespace ignite::sys {
namespace {

namespace fs = std::filesystem;

Unexpected refuse(const fs::path& at, const std::string& why) {
  return fail(ErrorCode::permission_denied,
              "refusing to use " + at.string() + ": " + why +
                  " (another user could change what Ignite keeps there)");
}

}  // namespace

// Security: walks the path one component at a time through directory fds, so what we check is
// what we use; nothing another user controls is followed or trusted.
Status ensure_owned_dir(const fs::path& path, mode_t mode) {
  if (!path.is_absolute()) return fail(ErrorCode::invalid_argument, "not an absolute path: " + path.string());
  const uid_t me = ::geteuid();
  Fd dir(::open("/", O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!dir) return fail(Error::from_errno("open /"));
  std::vector<std::string> parts;
  for (const auto& part : path.lexically_normal().relative_path()) {
    if (part.empty() || part == ".") continue;
    if (part == "..") return fail(ErrorCode::invalid_argument, "'..' in " + path.string());
    parts.push_back(part.string());
  }
  if (parts.empty()) return fail(ErrorCode::invalid_argument, "refusing to use / as a private dir");

  fs::path at = "/";
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const bool last = i + 1 == parts.size();
    const char* name = parts[i].c_str();
    at /= parts[i];
    struct stat st {};
    if (::fstatat(dir.get(), name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno != ENOENT) return fail(Error::from_errno("stat " + at.string()));
      // 0700 until checked; the final mode is set at the end.
      if (::mkdirat(dir.get(), name, last ? 0700 : 0755) != 0 && errno != EEXIST)
        return fail(Error::from_errno("create " + at.string()));
      if (::fstatat(dir.get(), name, &st, AT_SYMLINK_NOFOLLOW) != 0)
        return fail(Error::from_errno("stat " + at.string()));
    }
    const bool link = S_ISLNK(st.st_mode);
    if (link && st.st_uid != 0 && st.st_uid != me)
      return refuse(at, "it is a symlink owned by uid " + std::to_string(st.st_uid));
    const int flags = (last ? O_RDONLY : O_PATH) | O_DIRECTORY | O_CLOEXEC | (link ? 0 : O_NOFOLLOW);
    Fd next(::openat(dir.get(), name, flags));
    if (!next) return fail(Error::from_errno("open " + at.string()));
    if (::fstat(next.get(), &st) != 0) return fail(Error::from_errno("stat " + at.string()));
    if (st.st_uid != 0 && st.st_uid != me)
      return refuse(at, "it is owned by uid " + std::to_string(st.st_uid));
    if (last) {
      if (st.st_uid != me) return refuse(at, "it is owned by uid " + std::to_string(st.st_uid));
      if (st.st_mode & (S_IWGRP | S_IWOTH)) return refuse(at, "it is writable by group or others");
      if ((st.st_mode & 07777) != mode && ::fchmod(next.get(), mode) != 0)
        return fail(Error::from_errno("chmod " + at.string()));
    } else if ((st.st_mode & (S_IWGRP | S_IWOTH)) && !(st.st_mode & S_ISVTX)) {
      // Sticky (like /tmp): others may add entries but not replace ours, and each entry we go
      // through next is checked for its owner.
      return refuse(at, "it is writable by group or others and not sticky");
    }
    dir = std::move(next);
  }
  return ok();
}

}  // namespace ignite::sys
