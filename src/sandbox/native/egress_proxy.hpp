// EgressProxy: the only way out of a sandbox with egress (a dependency install). Init listens on
// 127.0.0.1 inside the sandbox's own network namespace and hands the listening socket over; the
// supervisor serves HTTP CONNECT on it from the host's namespace, connecting only where the
// EgressPolicy allows, and relays bytes. TLS stays end to end (the proxy sees host names only).
//
// It runs inside the supervisor's event loop (supervisor.hpp's EventSource), on the run's own
// thread: non-blocking sockets, bounded buffers, a bounded number of connections. Name
// resolution is the one blocking call (the host's resolver, with its own timeouts).
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "core/result.hpp"
#include "sandbox/native/egress_policy.hpp"
#include "sandbox/native/supervisor.hpp"
#include "sys/fd.hpp"

namespace ignite::sandbox::native {

class EgressProxy final : public EventSource {
 public:
  static constexpr std::size_t kMaxConnections = 64;
  static constexpr std::size_t kMaxHead = 8192;       // the CONNECT request line and headers
  static constexpr std::size_t kBuffer = 64 * 1024;   // per direction per connection

  // Takes the listening socket (made non-blocking here). Fails only if epoll cannot be made.
  static Result<std::unique_ptr<EgressProxy>> create(sys::Fd listener, EgressPolicy policy);

  int fd() const override { return epoll_.get(); }
  void service() override;

  // What the proxy refused, for the run's log ("10.0.0.1:443: a private network").
  const std::vector<std::string>& refusals() const { return refusals_; }

 private:
  struct Conn;
  EgressProxy(sys::Fd listener, sys::Fd epoll, EgressPolicy policy);
  void accept_all();
  void on_event(Conn& c, int fd, std::uint32_t events);
  void read_head(Conn& c);
  void open_upstream(Conn& c, const std::string& host, const std::string& port);
  void relay(Conn& c);
  void update_interest(Conn& c);
  void answer_and_close(Conn& c, const std::string& status_line);
  void close(Conn& c);

  sys::Fd listener_, epoll_;
  EgressPolicy policy_;
  std::map<int, std::shared_ptr<Conn>> by_fd_;  // client and upstream fds -> their connection
  std::vector<std::string> refusals_;
};

}  // namespace ignite::sandbox::native
