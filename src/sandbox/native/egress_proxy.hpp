// EgressProxy: the only way out of a sandbox with egress (a dependency install). Init listens on
// 127.0.0.1 inside the sandbox's own network namespace and hands the listening socket over; the
// supervisor serves HTTP CONNECT on it from the host's namespace, connecting only where the
// EgressPolicy allows, and relays bytes. TLS stays end to end (the proxy sees host names only).
//
// It runs inside the supervisor's event loop (supervisor.hpp's EventSource), on the run's own
// thread: non-blocking sockets, bounded buffers, a bounded number of connections. Names are
// resolved on short-lived threads (getaddrinfo blocks, for as long as the host's resolver
// likes), at most kMaxLookups at once, each answered 504 after kLookupTimeout: the loop that
// keeps the run's deadline never waits for DNS.
#pragma once
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

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
  static constexpr std::size_t kMaxLookups = 8;
  static constexpr std::chrono::seconds kLookupTimeout{10};
  static constexpr std::size_t kMaxRefusalsKept = 32;

  // Takes the listening socket (made non-blocking here). Fails only if epoll cannot be made.
  static Result<std::unique_ptr<EgressProxy>> create(sys::Fd listener, EgressPolicy policy);

  int fd() const override { return epoll_.get(); }
  void service() override;

  // What the proxy refused, for the run's log ("10.0.0.1:443: a private network"): the first
  // kMaxRefusalsKept, and how many there were in all.
  const std::vector<std::string>& refusals() const { return refusals_; }
  std::size_t refusal_count() const { return refusal_count_; }

 private:
  struct Conn;
  struct Lookup;
  EgressProxy(sys::Fd listener, sys::Fd epoll, std::shared_ptr<sys::Fd> wake, sys::Fd tick, EgressPolicy policy);
  void accept_all();
  void on_event(Conn& c, int fd, std::uint32_t events);
  void read_head(Conn& c);
  void start_lookup(Conn& c, const std::string& host, const std::string& port);
  void finish_lookups();  // connects what was resolved, answers 504 to what took too long
  void open_upstream(Conn& c, const Lookup& found);
  void relay(Conn& c);
  void update_interest(Conn& c);
  void answer_and_close(Conn& c, const std::string& status_line);
  void close(Conn& c);

  sys::Fd listener_, epoll_;
  std::shared_ptr<sys::Fd> wake_;  // eventfd the lookup threads poke (they may outlive us)
  sys::Fd tick_;                   // timerfd: lookup deadlines
  EgressPolicy policy_;
  std::map<int, std::shared_ptr<Conn>> by_fd_;  // client and upstream fds -> their connection
  std::vector<std::shared_ptr<Conn>> resolving_;
  std::vector<std::string> refusals_;
  std::size_t refusal_count_ = 0;
};

}  // namespace ignite::sandbox::native
