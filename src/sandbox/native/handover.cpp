#include "sandbox/native/handover.hpp"

#include <poll.h>

#include "sys/fd_passing.hpp"

namespace ignite::sandbox::native {
namespace {

// The next fd on `sock`: waits while init lives, at most until `deadline`.
sys::Fd next_fd(int sock, const sys::ChildProcess& init, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    if (sys::Fd fd = sys::receive_fd(sock)) return fd;
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return {};
    pollfd fds[2] = {{sock, POLLIN, 0}, {init.pidfd(), POLLIN, 0}};
    if (::poll(fds, 2, static_cast<int>(left.count())) < 0 && errno != EINTR) return {};
    // Init exited: one last look, its message may have been queued before it died.
    if (fds[1].revents & POLLIN) return sys::receive_fd(sock);
    if (fds[0].revents & (POLLHUP | POLLERR)) return sys::receive_fd(sock);
  }
}

}  // namespace

Handover receive_handover(int sock, const sys::ChildProcess& init, bool want_out_dir, bool want_egress,
                          std::chrono::milliseconds timeout) {
  Handover h;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  if (want_out_dir) {
    h.out_dir = next_fd(sock, init, deadline);
    if (!h.out_dir) return h;
  }
  if (want_egress) h.egress_listener = next_fd(sock, init, deadline);
  return h;
}

}  // namespace ignite::sandbox::native
