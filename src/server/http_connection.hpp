// One HTTP/1.1 connection's state machine: read a head (within the header deadline), check its
// framing, ask the application, read the body (within the body limit), hand the request over,
// write the response (or an event stream), then the next request or a graceful close. Requests
// are answered one at a time, in order: pipelined requests wait in the buffer.
//
// Every handler runs on the connection's strand; `respond` and stream wake-ups from other
// threads are posted onto it.
#pragma once
#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "server/http_listener.hpp"
#include "server/http_types.hpp"

namespace ignite::server {

class HttpConnection : public std::enable_shared_from_this<HttpConnection> {
 public:
  HttpConnection(boost::asio::ip::tcp::socket socket, HttpListener& listener, std::string peer,
                 std::string peer_key);
  ~HttpConnection();
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;

  void start();
  // The server is shutting down: close now if no request is in progress, else after its
  // response. Thread-safe (posts to the connection's strand).
  void shutdown();

 private:
  void on_shutdown();
  enum class Phase { idle, head, body, handling, writing, closing };
  // What the one timer does when it fires.
  enum class Expiry { none, close, cancel_read, send_delayed, heartbeat };

  void read_next();
  void read_head();
  void on_head(const boost::system::error_code& ec);
  void read_body();
  void on_body(const boost::system::error_code& ec);
  void dispatch();
  void refuse(int status, std::string message);
  void send(Response res);
  void write_response();
  void write_slice(bool with_head);
  void on_written(const boost::system::error_code& ec);
  void log_response();  // once per response, written or not
  void start_stream();
  void pump();
  void write_chunk(std::string text);
  void end_stream();
  void close_gracefully();
  void linger();
  void close();

  void arm(std::chrono::steady_clock::duration after, Expiry what);
  void disarm();
  void on_timer();

  HttpListener& listener_;
  const HttpLimits& limits_;
  boost::asio::ip::tcp::socket socket_;
  const boost::asio::any_io_executor executor_;  // the connection's strand
  boost::asio::steady_timer timer_;
  Expiry expiry_ = Expiry::none;
  std::uint64_t timer_generation_ = 0;  // a fired timer whose generation is stale does nothing
  bool timed_out_ = false;

  const std::string peer_;
  const std::string peer_key_;
  boost::beast::flat_buffer buffer_;  // bounded: the head and whatever follows it (pipelining)
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  Phase phase_ = Phase::idle;
  bool idle_ = false;         // counted in the listener's idle connections
  bool closed_ = false;
  std::size_t served_ = 0;     // responses written on this connection

  Request req_;                // the request being served (its body moved to the handler)
  bool client_keep_alive_ = false;
  bool body_expected_ = false;
  bool body_read_ = false;
  Response res_;
  bool unlogged_ = false;      // res_ has not been reported to the access log yet
  bool keep_alive_ = false;    // after this response
  std::string head_;           // the serialized head being written
  std::size_t written_ = 0;    // of res_.body
  std::string out_;            // a stream chunk being written
  bool writing_ = false;
  bool chunked_ = false;
  bool stream_done_ = false;
  std::unique_ptr<std::array<char, 16384>> discard_;  // lingering close only
  std::size_t lingered_ = 0;   // bytes dropped while lingering
};

}  // namespace ignite::server
