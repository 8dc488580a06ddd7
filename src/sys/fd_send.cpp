#include "sys/fd_send.hpp"

#include <string.h>

namespace ignite::sys {

bool send_fd(int sock, int fd) noexcept {
  OneFdMessage m;
  cmsghdr* c = CMSG_FIRSTHDR(&m.msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof fd);
  return ::sendmsg(sock, &m.msg, MSG_NOSIGNAL) == 1;
}

}  // namespace ignite::sys
