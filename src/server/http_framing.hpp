// How a request's body is delimited (RFC 9112 §6), decided strictly from its head.
//
// Security: when two parsers on a request's path (a proxy and us) could frame the same bytes
// differently, the bytes one of them reads as a body the other reads as a second request
// ("request smuggling"). So every head whose framing is not plain is refused, and the
// connection is closed after the refusal:
//   - Transfer-Encoding together with Content-Length;
//   - Transfer-Encoding more than once, or anything but exactly "chunked" (we implement no
//     other coding; a final coding other than chunked leaves the length undetermined);
//   - Content-Length more than once with different values, or not a decimal number;
//   - Transfer-Encoding in an HTTP/1.0 request (1.0 has no transfer codings: a 1.0 hop in
//     front would not have framed it that way).
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include "server/http_types.hpp"

namespace ignite::server {

enum class BodyFraming { none, content_length, chunked };

struct Framing {
  BodyFraming kind = BodyFraming::none;
  std::uint64_t length = 0;  // content_length only
};

// The framing of a request with these (lower-cased) header fields and HTTP version (10, 11), or
// the reason it is refused (a 400, after which the connection must close).
struct FramingVerdict {
  Framing framing;
  std::optional<std::string> error;
};
FramingVerdict request_framing(const Fields& fields, unsigned version = 11);

}  // namespace ignite::server
