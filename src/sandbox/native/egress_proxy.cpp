#include "sandbox/native/egress_proxy.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace ignite::sandbox::native {
namespace {

void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

// Appends what `fd` has to `buf`, up to `room` bytes. Returns false at EOF or on an error.
bool receive(int fd, std::string& buf, std::size_t room) {
  char tmp[16384];
  while (room > 0) {
    const ssize_t n = ::recv(fd, tmp, std::min(room, sizeof tmp), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
    if (n == 0) return false;
    buf.append(tmp, static_cast<std::size_t>(n));
    room -= static_cast<std::size_t>(n);
  }
  return true;
}

// Sends what it can of `buf` (the rest stays). Returns false on an error.
bool transmit(int fd, std::string& buf) {
  while (!buf.empty()) {
    const ssize_t n = ::send(fd, buf.data(), buf.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno == EAGAIN || errno == EWOULDBLOCK;
    buf.erase(0, static_cast<std::size_t>(n));
  }
  return true;
}

// "CONNECT host:port HTTP/1.1" -> host, port. Hosts are names or literal addresses only.
bool parse_connect(const std::string& head, std::string& host, std::string& port) {
  const auto eol = head.find("\r\n");
  const std::string line = head.substr(0, eol);
  if (line.rfind("CONNECT ", 0) != 0) return false;
  const auto sp = line.find(' ', 8);
  if (sp == std::string::npos || line.compare(sp, 6, " HTTP/") != 0) return false;
  std::string target = line.substr(8, sp - 8);
  const auto colon = target.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  host = target.substr(0, colon);
  port = target.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host.empty() || host.size() > 253 || port.empty() || port.size() > 5) return false;
  for (char c : host) {
    const bool okc = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                     c == '.' || c == '-' || c == ':';
    if (!okc) return false;
  }
  if (port.find_first_not_of("0123456789") != std::string::npos) return false;
  const unsigned long p = std::stoul(port);
  return p > 0 && p < 65536;
}

}  // namespace

struct EgressProxy::Conn {
  enum class State { head, connecting, relaying, closing };
  State state = State::head;
  sys::Fd client, upstream;
  std::string head;
  std::string to_upstream, to_client;
  bool client_eof = false, upstream_eof = false;
};

Result<std::unique_ptr<EgressProxy>> EgressProxy::create(sys::Fd listener, EgressPolicy policy) {
  sys::Fd ep(::epoll_create1(EPOLL_CLOEXEC));
  if (!ep) return fail(Error::from_errno("epoll_create1"));
  set_nonblocking(listener.get());
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.fd = listener.get();
  if (::epoll_ctl(ep.get(), EPOLL_CTL_ADD, listener.get(), &ev) != 0)
    return fail(Error::from_errno("epoll_ctl"));
  return std::unique_ptr<EgressProxy>(new EgressProxy(std::move(listener), std::move(ep), std::move(policy)));
}

EgressProxy::EgressProxy(sys::Fd listener, sys::Fd epoll, EgressPolicy policy)
    : listener_(std::move(listener)), epoll_(std::move(epoll)), policy_(std::move(policy)) {}

void EgressProxy::service() {
  epoll_event evs[32];
  // A bounded number of rounds: the supervisor's own events (deadline, output) come next.
  for (int round = 0; round < 8; ++round) {
    const int n = ::epoll_wait(epoll_.get(), evs, 32, 0);
    if (n <= 0) return;
    for (int i = 0; i < n; ++i) {
      const int fd = evs[i].data.fd;
      if (fd == listener_.get()) {
        accept_all();
        continue;
      }
      auto it = by_fd_.find(fd);
      if (it == by_fd_.end()) continue;  // closed by an earlier event of this round
      const std::shared_ptr<Conn> c = it->second;
      on_event(*c, fd, evs[i].events);
    }
  }
}

void EgressProxy::accept_all() {
  for (;;) {
    sys::Fd client(::accept4(listener_.get(), nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC));
    if (!client) return;
    // Over the bound, new connections are simply closed: a client retries or fails.
    if (by_fd_.size() / 2 >= kMaxConnections) continue;
    auto c = std::make_shared<Conn>();
    c->client = std::move(client);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = c->client.get();
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, c->client.get(), &ev) != 0) continue;
    by_fd_[c->client.get()] = c;
  }
}

void EgressProxy::on_event(Conn& c, int fd, std::uint32_t events) {
  // The client is gone both ways (or reset): nothing it could still receive.
  if (fd == c.client.get() && (events & (EPOLLERR | EPOLLHUP))) return close(c);
  if (c.state == Conn::State::head) return read_head(c);
  if (c.state == Conn::State::connecting && fd == c.upstream.get()) {
    int err = 0;
    socklen_t len = sizeof err;
    if ((events & (EPOLLERR | EPOLLHUP)) || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err)
      return answer_and_close(c, "HTTP/1.1 502 Bad Gateway");
    c.state = Conn::State::relaying;
    c.to_client.insert(0, "HTTP/1.1 200 Connection established\r\n\r\n");
  }
  relay(c);
}

void EgressProxy::read_head(Conn& c) {
  const bool open = receive(c.client.get(), c.head, kMaxHead + 1 - c.head.size());
  const auto end = c.head.find("\r\n\r\n");
  if (end == std::string::npos) {
    if (c.head.size() > kMaxHead) return answer_and_close(c, "HTTP/1.1 431 Request Header Fields Too Large");
    if (!open) return close(c);
    return;
  }
  std::string host, port;
  if (!parse_connect(c.head, host, port))
    return answer_and_close(c, "HTTP/1.1 405 Method Not Allowed\r\nAllow: CONNECT");
  c.to_upstream = c.head.substr(end + 4);  // bytes sent ahead of our answer
  c.head.clear();
  open_upstream(c, host, port);
}

void EgressProxy::open_upstream(Conn& c, const std::string& host, const std::string& port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0 || !found)
    return answer_and_close(c, "HTTP/1.1 502 Bad Gateway");
  std::string why;
  for (addrinfo* ai = found; ai; ai = ai->ai_next) {
    sockaddr_storage ss{};
    std::memcpy(&ss, ai->ai_addr, std::min<std::size_t>(ai->ai_addrlen, sizeof ss));
    why = policy_.refuse_reason(address_bytes(ss), static_cast<std::uint16_t>(std::stoul(port)));
    if (!why.empty()) continue;
    sys::Fd up(::socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!up) continue;
    if (::connect(up.get(), ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) continue;
    ::freeaddrinfo(found);
    c.upstream = std::move(up);
    c.state = Conn::State::connecting;
    epoll_event ev{};
    ev.events = EPOLLOUT;
    ev.data.fd = c.upstream.get();
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, c.upstream.get(), &ev);
    by_fd_[c.upstream.get()] = by_fd_[c.client.get()];
    return update_interest(c);
  }
  ::freeaddrinfo(found);
  if (!why.empty()) {
    refusals_.push_back(host + ":" + port + ": " + why);
    return answer_and_close(c, "HTTP/1.1 403 Forbidden\r\nX-Ignite-Refused: " + why);
  }
  answer_and_close(c, "HTTP/1.1 502 Bad Gateway");
}

void EgressProxy::relay(Conn& c) {
  if (c.state == Conn::State::relaying) {
    if (!c.client_eof && c.to_upstream.size() < kBuffer &&
        !receive(c.client.get(), c.to_upstream, kBuffer - c.to_upstream.size()))
      c.client_eof = true;
    if (!c.upstream_eof && c.to_client.size() < kBuffer &&
        !receive(c.upstream.get(), c.to_client, kBuffer - c.to_client.size()))
      c.upstream_eof = true;
    if (!transmit(c.upstream.get(), c.to_upstream)) return close(c);
    if (c.client_eof && c.to_upstream.empty()) ::shutdown(c.upstream.get(), SHUT_WR);
  }
  if (!transmit(c.client.get(), c.to_client)) return close(c);
  const bool flushed = c.to_client.empty();
  if (c.state == Conn::State::closing && flushed) return close(c);
  if (c.state == Conn::State::relaying && c.upstream_eof && flushed) {
    if (c.client_eof && c.to_upstream.empty()) return close(c);
    ::shutdown(c.client.get(), SHUT_WR);
  }
  update_interest(c);
}

void EgressProxy::update_interest(Conn& c) {
  const bool relaying = c.state == Conn::State::relaying;
  epoll_event ev{};
  ev.data.fd = c.client.get();
  ev.events = (!c.to_client.empty() ? EPOLLOUT : 0u) |
              (relaying && !c.client_eof && c.to_upstream.size() < kBuffer ? EPOLLIN : 0u);
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, c.client.get(), &ev);
  if (!c.upstream) return;
  ev.data.fd = c.upstream.get();
  ev.events = (c.state == Conn::State::connecting || !c.to_upstream.empty() ? EPOLLOUT : 0u) |
              (relaying && !c.upstream_eof && c.to_client.size() < kBuffer ? EPOLLIN : 0u);
  // Nothing to wait for on this side: out of the set, so a hang-up cannot spin the loop.
  if (ev.events == 0) {
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, c.upstream.get(), nullptr);
    by_fd_.erase(c.upstream.get());
  } else if (::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, c.upstream.get(), &ev) != 0 && errno == ENOENT) {
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, c.upstream.get(), &ev);
    by_fd_[c.upstream.get()] = by_fd_[c.client.get()];
  }
}

void EgressProxy::answer_and_close(Conn& c, const std::string& status_line) {
  c.state = Conn::State::closing;
  c.to_client = status_line + "\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
  if (c.upstream) {
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, c.upstream.get(), nullptr);
    by_fd_.erase(c.upstream.get());
    c.upstream.reset();
  }
  relay(c);
}

void EgressProxy::close(Conn& c) {
  // The caller holds a reference to the connection: erasing it from the map is safe here.
  for (sys::Fd* fd : {&c.client, &c.upstream}) {
    if (!*fd) continue;
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd->get(), nullptr);
    by_fd_.erase(fd->get());
    fd->reset();
  }
}

}  // namespace ignite::sandbox::native
