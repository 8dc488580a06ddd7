#include "sandbox/native/egress_proxy.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <thread>
#include <cerrno>
#include <cstring>

namespace ignite::sandbox::native {
namespace {

void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

// epoll_ctl for one fd whose events carry the fd itself. False when the kernel refused.
bool watch(int epoll, int op, int fd, std::uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.fd = fd;
  return ::epoll_ctl(epoll, op, fd, &ev) == 0;
}

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

// One name being resolved on its own thread; written by that thread before `done` is set.
struct EgressProxy::Lookup {
  std::string host, port;
  std::vector<sockaddr_storage> addresses;
  bool failed = false;
  std::atomic<bool> done{false};
};

struct EgressProxy::Conn {
  enum class State { head, resolving, connecting, relaying, closing };
  State state = State::head;
  sys::Fd client, upstream;
  std::string head;
  std::string to_upstream, to_client;
  bool client_eof = false, upstream_eof = false;
  std::shared_ptr<Lookup> lookup;
  std::chrono::steady_clock::time_point lookup_deadline;
};

Result<std::unique_ptr<EgressProxy>> EgressProxy::create(sys::Fd listener, EgressPolicy policy) {
  sys::Fd ep(::epoll_create1(EPOLL_CLOEXEC));
  auto wake = std::make_shared<sys::Fd>(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  sys::Fd tick(::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC));
  if (!ep || !*wake || !tick) return fail(Error::from_errno("epoll/eventfd/timerfd"));
  set_nonblocking(listener.get());
  for (int fd : {listener.get(), wake->get(), tick.get()}) {
    if (!watch(ep.get(), EPOLL_CTL_ADD, fd, EPOLLIN)) return fail(Error::from_errno("epoll_ctl"));
  }
  return std::unique_ptr<EgressProxy>(
      new EgressProxy(std::move(listener), std::move(ep), std::move(wake), std::move(tick), std::move(policy)));
}

EgressProxy::EgressProxy(sys::Fd listener, sys::Fd epoll, std::shared_ptr<sys::Fd> wake, sys::Fd tick,
                         EgressPolicy policy)
    : listener_(std::move(listener)),
      epoll_(std::move(epoll)),
      wake_(std::move(wake)),
      tick_(std::move(tick)),
      policy_(std::move(policy)) {}

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
      if (fd == wake_->get() || fd == tick_.get()) {
        std::uint64_t count = 0;
        (void)!::read(fd, &count, sizeof count);
        finish_lookups();
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
    if (!watch(epoll_.get(), EPOLL_CTL_ADD, c->client.get(), EPOLLIN)) continue;
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
  start_lookup(c, host, port);
}

void EgressProxy::start_lookup(Conn& c, const std::string& host, const std::string& port) {
  if (resolving_.size() >= kMaxLookups) return answer_and_close(c, "HTTP/1.1 503 Service Unavailable");
  c.state = Conn::State::resolving;
  c.lookup = std::make_shared<Lookup>();
  c.lookup->host = host;
  c.lookup->port = port;
  c.lookup_deadline = std::chrono::steady_clock::now() + kLookupTimeout;
  resolving_.push_back(by_fd_.at(c.client.get()));
  update_interest(c);  // nothing to read from the client until we answer
  // The thread owns what it touches: the lookup and the eventfd outlive this proxy if need be.
  std::thread([lookup = c.lookup, wake = wake_] {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* found = nullptr;
    lookup->failed = ::getaddrinfo(lookup->host.c_str(), lookup->port.c_str(), &hints, &found) != 0 || !found;
    for (addrinfo* ai = found; ai; ai = ai->ai_next) {
      sockaddr_storage ss{};
      std::memcpy(&ss, ai->ai_addr, std::min<std::size_t>(ai->ai_addrlen, sizeof ss));
      lookup->addresses.push_back(ss);
    }
    if (found) ::freeaddrinfo(found);
    lookup->done.store(true, std::memory_order_release);
    const std::uint64_t one = 1;
    (void)!::write(wake->get(), &one, sizeof one);
  }).detach();
  // Deadlines are checked once a second while lookups are pending.
  itimerspec every_second{{1, 0}, {1, 0}};
  ::timerfd_settime(tick_.get(), 0, &every_second, nullptr);
}

void EgressProxy::finish_lookups() {
  const auto now = std::chrono::steady_clock::now();
  auto pending = std::move(resolving_);
  resolving_.clear();
  for (auto& c : pending) {
    if (c->state != Conn::State::resolving) continue;  // closed meanwhile
    if (c->lookup->done.load(std::memory_order_acquire)) {
      const std::shared_ptr<Lookup> found = std::move(c->lookup);  // c->lookup is reset: keep it
      open_upstream(*c, *found);
    } else if (now >= c->lookup_deadline) {
      answer_and_close(*c, "HTTP/1.1 504 Gateway Timeout");
    } else {
      resolving_.push_back(c);
    }
  }
  if (resolving_.empty()) {
    itimerspec off{};
    ::timerfd_settime(tick_.get(), 0, &off, nullptr);
  }
}

void EgressProxy::open_upstream(Conn& c, const Lookup& found) {
  if (found.failed) return answer_and_close(c, "HTTP/1.1 502 Bad Gateway");
  const auto port = static_cast<std::uint16_t>(std::stoul(found.port));
  std::string why;
  for (const sockaddr_storage& ss : found.addresses) {
    why = policy_.refuse_reason(address_bytes(ss), port);
    if (!why.empty()) continue;
    sys::Fd up(::socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!up) continue;
    const socklen_t len = ss.ss_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
    if (::connect(up.get(), reinterpret_cast<const sockaddr*>(&ss), len) != 0 && errno != EINPROGRESS) continue;
    c.upstream = std::move(up);
    c.state = Conn::State::connecting;
    watch(epoll_.get(), EPOLL_CTL_ADD, c.upstream.get(), EPOLLOUT);
    by_fd_[c.upstream.get()] = by_fd_[c.client.get()];
    return update_interest(c);
  }
  if (!why.empty()) {
    if (refusals_.size() < kMaxRefusalsKept) refusals_.push_back(found.host + ":" + found.port + ": " + why);
    ++refusal_count_;
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
  watch(epoll_.get(), EPOLL_CTL_MOD, c.client.get(),
        (!c.to_client.empty() ? EPOLLOUT : 0u) |
            (relaying && !c.client_eof && c.to_upstream.size() < kBuffer ? EPOLLIN : 0u));
  if (!c.upstream) return;
  const std::uint32_t events = (c.state == Conn::State::connecting || !c.to_upstream.empty() ? EPOLLOUT : 0u) |
                               (relaying && !c.upstream_eof && c.to_client.size() < kBuffer ? EPOLLIN : 0u);
  // Nothing to wait for on this side: out of the set, so a hang-up cannot spin the loop.
  if (events == 0) {
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, c.upstream.get(), nullptr);
    by_fd_.erase(c.upstream.get());
  } else if (!watch(epoll_.get(), EPOLL_CTL_MOD, c.upstream.get(), events) && errno == ENOENT) {
    watch(epoll_.get(), EPOLL_CTL_ADD, c.upstream.get(), events);
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
  c.state = Conn::State::closing;  // a lookup still running for it finds nothing to continue
  c.lookup.reset();
  // The caller holds a reference to the connection: erasing it from the map is safe here.
  for (sys::Fd* fd : {&c.client, &c.upstream}) {
    if (!*fd) continue;
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd->get(), nullptr);
    by_fd_.erase(fd->get());
    fd->reset();
  }
}

}  // namespace ignite::sandbox::native
