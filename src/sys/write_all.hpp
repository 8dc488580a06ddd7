// Writes all of `bytes` to `fd` (a pipe, socket or file), retrying short writes and EINTR.
// send_all is the same for a socket whose peer may vanish.
#pragma once
#include <sys/socket.h>
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

// write_all for a stream socket, with MSG_NOSIGNAL: a peer that is gone (a VM's QEMU killed
// mid-write) is EPIPE here, never a SIGPIPE for the whole process.
inline bool send_all(int sock, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(sock, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

}  // namespace ignite::sys
