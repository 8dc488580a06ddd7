#include "server/http_connection.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>

#include "server/http_framing.hpp"

namespace ignite::server {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using boost::system::error_code;

// Silence longer than this in an event stream gets a heartbeat. Writing is the only way to
// learn that a client left (a closed peer still selects writable), so this bounds how long a
// sandbox keeps running for nobody: about two heartbeats.
constexpr std::chrono::milliseconds kHeartbeat{250};
// After the last response on a connection: how long, and how much, to read and drop of what the
// client still sends (an unread body), so that our close does not turn into a reset that could
// destroy the response before the client has read it. Beyond either bound: close anyway.
constexpr std::chrono::seconds kLinger{2};
constexpr std::size_t kLingerBytes = 1 << 20;
// The read buffer: a head (header_limit) plus room for what follows it.
constexpr std::size_t kMinBuffer = 64 << 10;
// A response body is written in slices of this size, each within the write timeout.
constexpr std::size_t kWriteSlice = 256 << 10;

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool iequals(std::string_view a, std::string_view b) { return lower(a) == lower(b); }

bool is_network_error(const error_code& ec) {
  return ec == http::error::end_of_stream || ec == http::error::partial_message ||
         ec == asio::error::eof || ec == asio::error::connection_reset ||
         ec == asio::error::operation_aborted || ec == asio::error::broken_pipe ||
         ec == asio::error::bad_descriptor || ec == asio::error::not_connected;
}

// Security: header names and values come from our own code, but some carry request text (a
// request id is checked before it is echoed); a CR or LF would end the head early.
bool safe_field(std::string_view s) { return s.find_first_of("\r\n") == std::string_view::npos; }

std::string serialize_head(const Response& res, bool keep_alive, bool chunked, unsigned version) {
  const auto reason = http::obsolete_reason(static_cast<http::status>(res.status));
  std::string head = "HTTP/1.1 " + std::to_string(res.status) + " " + std::string(reason) + "\r\n";
  if (!res.content_type.empty() && safe_field(res.content_type))
    head += "Content-Type: " + res.content_type + "\r\n";
  for (const auto& [name, value] : res.headers) {
    if (safe_field(name) && safe_field(value)) head += name + ": " + value + "\r\n";
  }
  if (res.stream) {
    if (chunked) head += "Transfer-Encoding: chunked\r\n";
  } else {
    head += "Content-Length: " + std::to_string(res.body_size()) + "\r\n";
  }
  if (!keep_alive) head += "Connection: close\r\n";
  else if (version == 10) head += "Connection: keep-alive\r\n";
  head += "\r\n";
  return head;
}

std::string hex(std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  do {
    out.insert(out.begin(), kDigits[n % 16]);
    n /= 16;
  } while (n > 0);
  return out;
}

}  // namespace

HttpConnection::HttpConnection(asio::ip::tcp::socket socket, HttpListener& listener, std::string peer,
                               std::string peer_key)
    : listener_(listener),
      limits_(listener.limits()),
      socket_(std::move(socket)),
      executor_(socket_.get_executor()),
      timer_(executor_),
      peer_(std::move(peer)),
      peer_key_(std::move(peer_key)),
      buffer_(std::max(kMinBuffer, 2 * limits_.header_limit)) {}

HttpConnection::~HttpConnection() {
  if (idle_) listener_.leave_idle();
  listener_.release(peer_key_);
}

void HttpConnection::start() {
  asio::post(executor_, [self = shared_from_this()] { self->read_head(); });
}

void HttpConnection::shutdown() {
  asio::post(executor_, [self = shared_from_this()] { self->on_shutdown(); });
}

void HttpConnection::on_shutdown() {
  // Between requests (or before a whole head arrived) nothing is in flight: close. Otherwise
  // the response goes out with "Connection: close" (send() asks the listener).
  if (phase_ == Phase::idle || phase_ == Phase::head) close();
}

// ---- timer ------------------------------------------------------------------------------------

void HttpConnection::arm(std::chrono::steady_clock::duration after, Expiry what) {
  expiry_ = what;
  const std::uint64_t generation = ++timer_generation_;
  timer_.expires_after(after);
  timer_.async_wait([self = shared_from_this(), generation](const error_code& ec) {
    if (ec || generation != self->timer_generation_ || self->closed_) return;
    self->on_timer();
  });
}

void HttpConnection::disarm() {
  expiry_ = Expiry::none;
  ++timer_generation_;
  timer_.cancel();
}

void HttpConnection::on_timer() {
  const Expiry what = expiry_;
  expiry_ = Expiry::none;
  switch (what) {
    case Expiry::none:
      return;
    case Expiry::close:  // idle too long, a head too slow, a write stuck, lingering over
      timed_out_ = true;
      return close();
    case Expiry::cancel_read:  // the body stalled: the read handler answers 400
      timed_out_ = true;
      socket_.cancel();
      return;
    case Expiry::send_delayed:
      return write_response();
    case Expiry::heartbeat:
      return write_chunk(res_.stream->heartbeat());
  }
}

// ---- reading ----------------------------------------------------------------------------------

void HttpConnection::read_next() {
  phase_ = Phase::idle;
  if (listener_.stopping()) return close();
  if (buffer_.size() > 0) return read_head();  // a pipelined request is already here
  if (!listener_.enter_idle()) return close();
  idle_ = true;
  arm(limits_.keep_alive_timeout, Expiry::close);
  socket_.async_wait(asio::ip::tcp::socket::wait_read, [self = shared_from_this()](const error_code& ec) {
    if (self->idle_) {
      self->idle_ = false;
      self->listener_.leave_idle();
    }
    if (self->closed_) return;
    self->disarm();
    if (ec) return self->close();
    self->read_head();
  });
}

void HttpConnection::read_head() {
  phase_ = Phase::head;
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(limits_.header_limit));
  parser_->body_limit(limits_.body_limit);
  req_ = Request{};
  body_expected_ = body_read_ = false;
  // Security: one deadline for the whole head, however slowly it trickles in.
  arm(limits_.header_timeout, Expiry::close);
  http::async_read_header(socket_, buffer_, *parser_,
                          [self = shared_from_this()](const error_code& ec, std::size_t) { self->on_head(ec); });
}

void HttpConnection::on_head(const error_code& ec) {
  if (closed_) return;
  disarm();
  if (ec == http::error::body_limit) return refuse(413, "");
  if (ec == http::error::header_limit || ec == http::error::buffer_overflow) return refuse(431, "");
  if (ec && is_network_error(ec)) return close();
  if (ec) return refuse(400, "malformed HTTP request: " + ec.message());

  auto& msg = parser_->get();
  req_.method = std::string(msg.method_string());
  req_.target = std::string(msg.target());
  const auto q = req_.target.find('?');
  req_.path = req_.target.substr(0, q);
  if (q != std::string::npos) req_.query = req_.target.substr(q + 1);
  req_.version = msg.version();
  for (const auto& field : msg) req_.headers.emplace_back(lower(field.name_string()), std::string(field.value()));
  req_.remote_addr = peer_;
  client_keep_alive_ = msg.keep_alive();

  // Security: framing is decided here, strictly, before a single body byte is read.
  const FramingVerdict verdict = request_framing(req_.headers, req_.version);
  if (verdict.error) return refuse(400, "malformed HTTP request: " + *verdict.error);
  body_expected_ = verdict.framing.kind == BodyFraming::chunked ||
                   (verdict.framing.kind == BodyFraming::content_length && verdict.framing.length > 0);

  if (auto early = listener_.app().on_head(req_)) return send(std::move(*early));
  if (body_expected_ && iequals(req_.header("expect"), "100-continue") && buffer_.size() == 0) {
    static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    arm(limits_.write_timeout, Expiry::close);
    asio::async_write(socket_, asio::buffer(kContinue), [self = shared_from_this()](const error_code& wec, std::size_t) {
      if (self->closed_) return;
      self->disarm();
      if (wec) return self->close();
      self->read_body();
    });
    return;
  }
  read_body();
}

void HttpConnection::read_body() {
  phase_ = Phase::body;
  if (parser_->is_done()) return dispatch();
  // Each read within read_timeout; what a whole body may take is bounded by the body limit
  // and the per-address connection cap.
  arm(limits_.read_timeout, Expiry::cancel_read);
  http::async_read_some(socket_, buffer_, *parser_,
                        [self = shared_from_this()](const error_code& ec, std::size_t) { self->on_body(ec); });
}

void HttpConnection::on_body(const error_code& ec) {
  if (closed_) return;
  disarm();
  // Only a read that the deadline cancelled counts: one that completed just before is fine.
  const bool stalled = std::exchange(timed_out_, false);
  if (ec && stalled) return refuse(400, "the request body was not received in time (--read-timeout)");
  if (ec == http::error::body_limit) return refuse(413, "");
  if (ec == http::error::buffer_overflow) return refuse(400, "malformed HTTP request: a chunk header is too long");
  if (ec && is_network_error(ec)) return close();
  if (ec) return refuse(400, "malformed HTTP request body: " + ec.message());
  if (!parser_->is_done()) return read_body();
  body_read_ = true;
  dispatch();
}

// ---- handing over -----------------------------------------------------------------------------

void HttpConnection::dispatch() {
  phase_ = Phase::handling;
  Request request = req_;  // the connection keeps the head for the access log
  request.body = std::move(parser_->get().body());
  parser_.reset();
  auto respond = [self = shared_from_this(), executor = executor_](Response res) {
    asio::post(executor, [self, res = std::move(res)]() mutable { self->send(std::move(res)); });
  };
  listener_.app().on_request(std::move(request), std::move(respond));
}

void HttpConnection::refuse(int status, std::string message) {
  HttpError error = for_status(status);
  if (!message.empty()) error.message = std::move(message);
  Response res = listener_.app().on_transport_error(req_, error);
  res.close = true;  // after a framing or parsing failure nothing on this connection is trusted
  send(std::move(res));
}

// ---- writing ----------------------------------------------------------------------------------

void HttpConnection::send(Response res) {
  if (closed_) return;
  phase_ = Phase::writing;
  parser_.reset();
  // An unread body would be parsed as the next request: close instead.
  keep_alive_ = !res.close && client_keep_alive_ && !listener_.stopping() && (!body_expected_ || body_read_);
  res_ = std::move(res);
  unlogged_ = true;
  if (res_.delay.count() > 0) return arm(res_.delay, Expiry::send_delayed);
  write_response();
}

void HttpConnection::write_response() {
  if (res_.stream) return start_stream();
  head_ = serialize_head(res_, keep_alive_, false, req_.version);
  written_ = 0;
  write_slice(true);
}

void HttpConnection::write_slice(bool with_head) {
  // The write timeout applies per slice: a large body (a kept job result) may take as long as
  // it needs at a reasonable pace, a reader that stalls is cut off after one timeout.
  const std::size_t n = std::min(kWriteSlice, res_.body_size() - written_);
  const std::array<asio::const_buffer, 2> buffers{
      with_head ? asio::buffer(head_) : asio::const_buffer(),
      n > 0 ? asio::buffer(res_.body->data() + written_, n) : asio::const_buffer()};
  arm(limits_.write_timeout, Expiry::close);
  asio::async_write(socket_, buffers, [self = shared_from_this(), n](const error_code& ec, std::size_t) {
    if (ec || self->closed_) return self->on_written(ec);
    self->written_ += n;
    if (self->written_ < self->res_.body_size()) return self->write_slice(false);
    self->on_written(ec);
  });
}

void HttpConnection::on_written(const error_code& ec) {
  if (!closed_) disarm();
  log_response();
  res_ = Response{};  // drops our reference to a shared body at once
  if (ec || closed_) return close();
  ++served_;
  if (!keep_alive_) return close_gracefully();
  read_next();
}

void HttpConnection::log_response() {
  if (!std::exchange(unlogged_, false)) return;
  listener_.app().on_sent(req_, res_);
}

// ---- event streams ----------------------------------------------------------------------------

void HttpConnection::start_stream() {
  // HTTP/1.0 has no chunked coding: the body then ends with the connection.
  chunked_ = req_.version >= 11;
  if (!chunked_) keep_alive_ = false;
  stream_done_ = false;
  head_ = serialize_head(res_, keep_alive_, chunked_, req_.version);
  writing_ = true;
  arm(limits_.write_timeout, Expiry::close);
  asio::async_write(socket_, asio::buffer(head_), [self = shared_from_this()](const error_code& ec, std::size_t) {
    self->writing_ = false;
    if (self->closed_) return;
    self->disarm();
    if (ec) return self->close();
    self->pump();
  });
  std::weak_ptr<HttpConnection> weak = weak_from_this();
  res_.stream->start([weak, executor = executor_] {
    asio::post(executor, [weak] {
      if (auto self = weak.lock()) self->pump();
    });
  });
}

void HttpConnection::pump() {
  if (closed_ || writing_ || stream_done_ || !res_.stream) return;
  auto text = res_.stream->take();
  if (!text) return end_stream();
  if (text->empty()) {
    if (expiry_ != Expiry::heartbeat) arm(kHeartbeat, Expiry::heartbeat);
    return;
  }
  write_chunk(std::move(*text));
}

void HttpConnection::write_chunk(std::string text) {
  disarm();
  out_ = chunked_ ? hex(text.size()) + "\r\n" + text + "\r\n" : std::move(text);
  writing_ = true;
  arm(limits_.write_timeout, Expiry::close);
  asio::async_write(socket_, asio::buffer(out_), [self = shared_from_this()](const error_code& ec, std::size_t) {
    self->writing_ = false;
    if (self->closed_) return;
    self->disarm();
    if (ec) return self->close();  // the client left: close() abandons the stream
    self->pump();
  });
}

void HttpConnection::end_stream() {
  stream_done_ = true;
  out_ = chunked_ ? "0\r\n\r\n" : "";
  writing_ = true;
  arm(limits_.write_timeout, Expiry::close);
  asio::async_write(socket_, asio::buffer(out_), [self = shared_from_this()](const error_code& ec, std::size_t) {
    self->writing_ = false;
    self->on_written(ec);
  });
}

// ---- closing ----------------------------------------------------------------------------------

void HttpConnection::close_gracefully() {
  phase_ = Phase::closing;
  error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  discard_ = std::make_unique<std::array<char, 16384>>();
  arm(kLinger, Expiry::close);
  linger();
}

void HttpConnection::linger() {
  socket_.async_read_some(asio::buffer(*discard_), [self = shared_from_this()](const error_code& ec, std::size_t n) {
    if (self->closed_) return;
    self->lingered_ += n;
    // EOF: the client has everything and has closed. Too much: it is not listening.
    if (ec || self->lingered_ > kLingerBytes) return self->close();
    self->linger();
  });
}

void HttpConnection::close() {
  if (closed_) return;
  closed_ = true;
  phase_ = Phase::closing;
  ++timer_generation_;
  timer_.cancel();
  if (res_.stream && !stream_done_) {
    res_.stream->abandon();  // e.g. kills the sandbox whose output nobody reads any more
    stream_done_ = true;
  }
  log_response();  // a response cut short is logged too
  error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

}  // namespace ignite::server
