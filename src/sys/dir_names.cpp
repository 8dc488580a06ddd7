#include "sys/dir_names.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <string_view>

namespace ignite::sys {

int sorted_dir_names(int dirfd, std::size_t limit, std::vector<std::string>& names) {
  // A fresh open of "." so the caller's fd keeps its own position and stays open.
  const int fd = ::openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno;
  DIR* dp = ::fdopendir(fd);
  if (!dp) {
    const int err = errno;
    ::close(fd);
    return err;
  }
  errno = 0;
  while (dirent* e = ::readdir(dp)) {
    const std::string_view n = e->d_name;
    if (n != "." && n != "..") names.emplace_back(n);
    if (names.size() > limit) break;
  }
  const int err = errno;
  ::closedir(dp);
  std::sort(names.begin(), names.end());
  return err;
}

}  // namespace ignite::sys
