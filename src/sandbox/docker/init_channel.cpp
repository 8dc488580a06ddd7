#include "sandbox/docker/init_channel.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstring>
#include <string>

#include "init_protocol.h"
#include "sys/unix_socket.hpp"

namespace ignite::sandbox::docker {

static_assert(sizeof(ignite_init_report) == sizeof(native::ChildReport),
              "ignite-docker-init writes the native init's ChildReport");
static_assert(offsetof(ignite_init_report, status) == offsetof(native::ChildReport, status));
static_assert(offsetof(ignite_init_report, cpu_usec) == offsetof(native::ChildReport, cpu_usec));
static_assert(IGNITE_STAGE_EXEC == static_cast<int>(native::ChildStage::exec));
static_assert(IGNITE_STAGE_SECCOMP == static_cast<int>(native::ChildStage::seccomp));
static_assert(IGNITE_STAGE_SECCOMP_LISTENER == static_cast<int>(native::ChildStage::seccomp_listener));
static_assert(IGNITE_STAGE_RLIMIT == static_cast<int>(native::ChildStage::rlimit));
static_assert(IGNITE_STAGE_STDIO == static_cast<int>(native::ChildStage::stdio));
static_assert(IGNITE_STAGE_FORK == static_cast<int>(native::ChildStage::fork));

Result<InitListener> InitListener::listen(const std::filesystem::path& dir) {
  const auto path = dir / "init.sock";
  IGNITE_TRY_ASSIGN(sys::Fd fd, sys::listen_unix(path, SOCK_SEQPACKET, 0666));
  return InitListener(std::move(fd), path);
}

Result<InitConnection> InitListener::accept(std::chrono::milliseconds timeout) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    sys::Fd conn(::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
    if (conn) {
      ::unlink(path_.c_str());
      fd_.reset();
      ucred cred{};
      socklen_t len = sizeof cred;
      if (::getsockopt(conn.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
        return fail(Error::from_errno("SO_PEERCRED"));
      return InitConnection{std::move(conn), cred.pid};
    }
    if (errno != EAGAIN && errno != EINTR) return fail(Error::from_errno("accept"));
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0)
      return fail(ErrorCode::internal, "the container's init did not connect within " +
                                                    std::to_string(timeout.count()) + " ms");
    pollfd p{fd_.get(), POLLIN, 0};
    (void)::poll(&p, 1, static_cast<int>(left));
  }
}

Status send_start(int sock, const InitStart& start) {
  const std::size_t filter_len = start.filter ? start.filter->len : 0;
  if (start.fds.size() > IGNITE_INIT_NFDS || start.rlimits.size() > IGNITE_INIT_MAX_RLIMITS ||
      filter_len > IGNITE_INIT_MAX_FILTER)
    return fail(ErrorCode::internal, "docker init: start message out of bounds");
  ignite_init_header h{IGNITE_INIT_MAGIC,
                       IGNITE_INIT_VERSION,
                       start.listener ? IGNITE_INIT_LISTENER : 0u,
                       static_cast<std::uint32_t>(start.fds.size()),
                       static_cast<std::uint32_t>(start.rlimits.size()),
                       static_cast<std::uint32_t>(filter_len)};
  std::string body(reinterpret_cast<const char*>(&h), sizeof h);
  for (const auto& r : start.rlimits) {
    ignite_init_rlimit l{r.resource, 0, static_cast<std::uint64_t>(r.value)};
    body.append(reinterpret_cast<const char*>(&l), sizeof l);
  }
  if (filter_len) body.append(reinterpret_cast<const char*>(start.filter->filter), filter_len * sizeof(sock_filter));

  iovec iov{body.data(), body.size()};
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * IGNITE_INIT_NFDS)] = {};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control;
  msg.msg_controllen = CMSG_SPACE(sizeof(int) * start.fds.size());
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int) * start.fds.size());
  std::memcpy(CMSG_DATA(c), start.fds.data(), sizeof(int) * start.fds.size());
  ssize_t n;
  do n = ::sendmsg(sock, &msg, MSG_NOSIGNAL); while (n < 0 && errno == EINTR);
  if (n != static_cast<ssize_t>(body.size())) return fail(Error::from_errno("send the container's start message"));
  return ok();
}

}  // namespace ignite::sandbox::docker
