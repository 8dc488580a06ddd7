// One HTTP/1.1 request to a Unix socket with libcurl: the transport under EngineClient. The
// body is handed to a sink as it arrives, so each caller decides what to keep (and when to
// stop), and nothing here buffers without bound.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace ignite::docker {

// A request body produced piece by piece (a build context of hundreds of megabytes is read
// from disk as it is sent, never held whole): exactly `size` bytes in all.
struct BodySource {
  std::uint64_t size = 0;
  // Fills at most `room` bytes at `into` and returns how many (more than 0 while bytes remain);
  // an error aborts the request and is what the request fails with.
  std::function<Result<std::size_t>(char* into, std::size_t room)> read;
};

struct HttpRequest {
  std::string_view method;        // GET, POST, DELETE
  std::string target;             // "/v1.41/containers/json?all=1", already escaped
  std::string_view body;          // sent as is (may be empty)
  std::string_view content_type;  // "" sends none
  std::chrono::milliseconds timeout{};  // 0: no limit
  const BodySource* source = nullptr;   // the body instead of `body` (POST only)
  std::string_view peer = "docker";     // who listens on the socket, for error messages
};

struct HttpOutcome {
  long status = 0;
  bool stopped = false;  // the sink asked to stop; the body was not read to its end
};

// The sink gets the status code and each piece of the body; false stops the transfer.
using BodySink = std::function<bool(long status, std::string_view piece)>;

// Fails `unavailable` when nothing listens on the socket (missing, refused); for docker, with
// the remedy.
Result<HttpOutcome> unix_http(const std::string& socket_path, const HttpRequest& request,
                              const BodySink& sink);

// Percent-encodes a query value (RFC 3986 unreserved characters pass).
std::string url_escape(std::string_view text);

}  // namespace ignite::docker
