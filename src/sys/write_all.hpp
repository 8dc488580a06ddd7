// Writes all of `bytes` to `fd` (a pipe, socket or file), retrying short writes and EINTR.
#pragma once
#include <unistd.h>

#include <cerrno>
#include <string_view>

namespace ignite::sys {

// false with errno set when a write fails (0 bytes written counts as a failure).
inline bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace ignite::sys
