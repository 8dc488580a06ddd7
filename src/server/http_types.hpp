// The HTTP request and response as the routes see them: plain values, no HTTP library types.
// The transport (http_connection.*) fills a Request from the wire and writes a Response back.
#pragma once
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ignite::server {

// Header fields in the order received; names lower-cased by the transport.
using Fields = std::vector<std::pair<std::string, std::string>>;

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string target;  // as sent: "/v1/jobs/3f2a?x=1"
  std::string path;    // the target up to '?', still percent-encoded
  std::string query;   // after '?', still percent-encoded
  unsigned version = 11;  // 10 or 11
  Fields headers;
  std::string body;    // complete, within the body limit
  std::string remote_addr;  // the peer's address

  // Filled in before the handler runs.
  std::vector<std::string> params;  // the route's captures, percent-decoded, in order
  std::string id;            // X-Request-Id: the client's, if sane, else generated
  std::string client;        // rate-limit identity: "key:…" or the peer's address
  std::string key_identity;  // "key:…" when the server has API keys, else ""
  std::chrono::steady_clock::time_point start;  // when the head was read

  // The first field named `name` (case-insensitive), or "".
  std::string header(std::string_view name) const;
  bool has_header(std::string_view name) const;
  // The query parameter `name`, percent-decoded; "" when absent.
  std::string query_param(std::string_view name) const;
  const std::string& param(std::size_t i) const { return params.at(i); }
};

// A body sent incrementally (Server-Sent Events). The transport calls start() once, then take()
// whenever woken or when it decides to (heartbeats); every method is called on one connection's
// strand, `wake` may be called from any thread.
class EventStream {
 public:
  virtual ~EventStream() = default;
  // `wake`: call it when take() has something new (it posts to the connection; cheap).
  virtual void start(std::function<void()> wake) = 0;
  // Never blocks: what is ready now ("" when nothing), or nullopt once everything has been taken.
  virtual std::optional<std::string> take() = 0;
  // Written during silence, so that a client that left is noticed (the write fails).
  virtual std::string heartbeat() const = 0;
  // The client is gone before the end: stop producing (e.g. kill the sandbox). Never blocks.
  virtual void abandon() = 0;
};

struct Response {
  int status = 200;
  std::string content_type;
  Fields headers;  // besides Content-Type, Content-Length, Transfer-Encoding and Connection
  // Shared, so one large body (a kept job result) serves every reader without a copy each.
  std::shared_ptr<const std::string> body;
  std::shared_ptr<EventStream> stream;  // set instead of `body` for an event stream
  std::chrono::milliseconds delay{0};  // the transport waits this long before sending
  bool close = false;                  // close the connection after this response

  void set_header(std::string name, std::string value);
  void set_body(std::string text, std::string type);
  void set_shared_body(std::shared_ptr<const std::string> text, std::string type);
  std::size_t body_size() const { return body ? body->size() : 0; }
};

// "%2F" -> "/"; nullopt when an escape is malformed ("%zz", "%4").
std::optional<std::string> percent_decode(std::string_view text);

}  // namespace ignite::server
