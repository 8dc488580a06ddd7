// LoopbackListener: a real TCP listener on the host's 127.0.0.1 (ephemeral port), for tests that
// prove a sandbox cannot reach host services.
#pragma once
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cstddef>
#include <cstring>

#include <string>

#include "sys/fd.hpp"

namespace ignite::testing {

class LoopbackListener {
 public:
  LoopbackListener() : fd_(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::bind(fd_.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(fd_.get(), 4) != 0)
      return;
    socklen_t len = sizeof a;
    ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
  }
  bool ok() const { return port_ != 0; }
  std::string port() const { return std::to_string(port_); }
  int fd() const { return fd_.get(); }

 private:
  sys::Fd fd_;
  unsigned short port_ = 0;
};

// A non-loopback IPv4 address of this host, or "" when it has none.
inline std::string host_primary_address() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return "";
  std::string out;
  for (ifaddrs* i = list; i && out.empty(); i = i->ifa_next) {
    if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
    char buf[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr, buf, sizeof buf);
    if (std::string(buf).rfind("127.", 0) != 0) out = buf;
  }
  ::freeifaddrs(list);
  return out;
}

// A listening unix socket in the host's abstract namespace (per network namespace, so a
// sandbox with its own network namespace must not reach it).
class AbstractListener {
 public:
  explicit AbstractListener(const std::string& name)
      : fd_(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)), name_(name) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    if (name.size() + 1 > sizeof a.sun_path) return;
    std::memcpy(a.sun_path + 1, name.data(), name.size());
    const auto len = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
    ok_ = ::bind(fd_.get(), reinterpret_cast<sockaddr*>(&a), len) == 0 && ::listen(fd_.get(), 4) == 0;
  }
  bool ok() const { return ok_; }
  const std::string& name() const { return name_; }

 private:
  sys::Fd fd_;
  std::string name_;
  bool ok_ = false;
};

}  // namespace ignite::testing
