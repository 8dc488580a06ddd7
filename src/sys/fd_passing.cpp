#include "sys/fd_passing.hpp"

#include <sys/socket.h>

#include <cstring>

namespace ignite::sys {

Fd receive_fd(int sock) noexcept {
  OneFdMessage m;
  if (::recvmsg(sock, &m.msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT) <= 0) return {};
  for (cmsghdr* c = CMSG_FIRSTHDR(&m.msg); c; c = CMSG_NXTHDR(&m.msg, c)) {
    if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS && c->cmsg_len == CMSG_LEN(sizeof(int))) {
      int fd = -1;
      std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
      return Fd(fd);
    }
  }
  return {};
}

}  // namespace ignite::sys
