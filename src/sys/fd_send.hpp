// Sending one descriptor over a unix socket (SCM_RIGHTS), and the frame both ends use. Plain C
// data and calls only: ignite-sandbox-init, built without a C++ library, sends with it
// (fd_passing.hpp has the receiving end).
#pragma once
#include <sys/socket.h>
#include <sys/uio.h>

namespace ignite::sys {

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

// Sends `fd` with a one-byte message. Stack buffers and one syscall only, so it is safe in the
// sandbox's clone child (no allocation, no locks).
bool send_fd(int sock, int fd) noexcept;

}  // namespace ignite::sys
