#include "sys/fd_passing.hpp"

#include <sys/socket.h>

#include <cstring>

namespace ignite::sys {
namespace {

// A one-byte message with room for one descriptor; both ends use the same frame.
struct OneFdMessage {
  char byte = 's';
  iovec iov{&byte, 1};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  msghdr msg{};

  OneFdMessage() noexcept {
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
  }
  OneFdMessage(const OneFdMessage&) = delete;  // points into itself
  OneFdMessage& operator=(const OneFdMessage&) = delete;
};

}  // namespace

bool send_fd(int sock, int fd) noexcept {
  OneFdMessage m;
  cmsghdr* c = CMSG_FIRSTHDR(&m.msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
  return ::sendmsg(sock, &m.msg, MSG_NOSIGNAL) == 1;
}

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
