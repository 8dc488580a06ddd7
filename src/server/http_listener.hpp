// The HTTP/1.1 transport: an event loop (Boost.Asio) on a few I/O threads, all created at
// start, accepting connections and running each one's state machine (http_connection.*), with
// Boost.Beast's parser for request heads and bodies.
//
// Bounds against clients that hold connections without finishing requests (slowloris):
//   - a connection costs a descriptor and a few KiB, never a thread;
//   - the whole request head must arrive within `header_timeout` of its first byte (of the
//     connection, for the first request), however the client trickles it;
//   - each read of the body within `read_timeout`; each write (of at most 256 KiB) within
//     `write_timeout`;
//   - at most `max_connections_per_peer` from one address (IPv6: one /64), refused with 429
//     beyond; at most `max_connections` in total (beyond, accepting pauses);
//   - a kept-alive connection may stay idle `keep_alive_timeout`, and at most `max_idle` may be
//     idle at once (beyond, the newly idle one is closed).
#pragma once
#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>

#include "core/result.hpp"
#include "server/http_error.hpp"
#include "server/http_types.hpp"

namespace ignite::server {

struct HttpLimits {
  std::size_t body_limit = 1 << 20;
  std::size_t header_limit = 16 << 10;  // request line + header fields
  std::chrono::seconds header_timeout{10};
  std::chrono::seconds read_timeout{10};
  std::chrono::seconds write_timeout{10};
  std::chrono::seconds keep_alive_timeout{5};
  std::size_t max_connections = 512;
  std::size_t max_connections_per_peer = 32;
  std::size_t max_idle = 64;
  std::string unlimited_peer;  // a trusted proxy's address: many clients arrive through it
  std::size_t io_threads = 2;
};

// What the transport asks of the application, per request.
class HttpApp {
 public:
  virtual ~HttpApp() = default;
  using Respond = std::function<void(Response)>;

  // The head has been read and its framing is sound; the body has not been read. A response
  // returned here is sent at once and the body is never read (the connection then closes if the
  // request had one). Runs on an I/O thread: must not block.
  virtual std::optional<Response> on_head(Request& req) = 0;
  // The complete request. `respond` must be called exactly once, from any thread. Runs on an
  // I/O thread: blocking work goes elsewhere.
  virtual void on_request(Request req, Respond respond) = 0;
  // The response for a request the transport refused itself (malformed, too large, too slow).
  virtual Response on_transport_error(Request& req, const HttpError& error) = 0;
  // After a response was written, or its write failed (the access log).
  virtual void on_sent(const Request& req, const Response& res) = 0;
  // A connection refused before any request, for having too many siblings from its address.
  virtual void on_connection_refused() = 0;
};

class HttpConnection;

class HttpListener {
 public:
  HttpListener(HttpLimits limits, HttpApp& app);
  ~HttpListener();
  HttpListener(const HttpListener&) = delete;
  HttpListener& operator=(const HttpListener&) = delete;

  // Binds and listens; returns the port (the chosen one for port 0). `unavailable` when the
  // address cannot be bound.
  Result<int> bind(const std::string& host, int port);

  // Starts the I/O threads (all of them, before the first accept), accepts and serves until
  // shutdown() or stop() ends it. Blocks; the calling thread is one of the I/O threads.
  void run();

  // Stops accepting, closes connections that are between requests, lets the others finish
  // their current response (up to `grace`), then ends run(). Thread-safe; returns at once.
  void shutdown(std::chrono::milliseconds grace);

  // Ends run() at once. Thread-safe.
  void stop();

  // For HttpConnection.
  const HttpLimits& limits() const { return limits_; }
  HttpApp& app() { return app_; }
  bool stopping() const { return stopping_.load(); }
  bool enter_idle();  // false: too many idle connections, close this one
  void leave_idle();
  void release(const std::string& peer_key);  // a connection ended

 private:
  void accept_next();
  void on_accept(const boost::system::error_code& ec, boost::asio::ip::tcp::socket socket);
  void refuse(boost::asio::ip::tcp::socket socket);
  void wait_for_connections(std::chrono::steady_clock::time_point deadline);

  const HttpLimits limits_;
  HttpApp& app_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> idle_{0};
  std::atomic<std::size_t> refusing_{0};

  // Declared before the io_context: connections still queued in it when it is destroyed
  // call release() from their destructors.
  std::mutex mu_;
  std::size_t connections_ = 0;
  std::map<std::string, std::size_t> per_peer_;
  std::vector<std::weak_ptr<HttpConnection>> live_;  // for shutdown(); pruned as it grows
  bool accept_paused_ = false;

  boost::asio::io_context io_;
  // The acceptor, its retry timer and shutdown() run on one strand (accepting is serial anyway).
  boost::asio::strand<boost::asio::io_context::executor_type> accept_strand_;
  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_timer_;
  std::vector<std::thread> threads_;
};

}  // namespace ignite::server
