#include "server/http_framing.hpp"

#include <algorithm>
#include <cctype>
#include <string_view>

namespace ignite::server {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool is_chunked(std::string_view value) {
  value = trim(value);
  static constexpr std::string_view kChunked = "chunked";
  return value.size() == kChunked.size() &&
         std::equal(value.begin(), value.end(), kChunked.begin(),
                    [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) == b; });
}

// A Content-Length value: 1*DIGIT, or a list of identical ones ("5, 5", RFC 9112 §6.3 allows
// a recipient to accept that). Nothing else: no sign, no spaces inside, no overflow.
std::optional<std::uint64_t> parse_length(std::string_view value) {
  std::optional<std::uint64_t> out;
  for (;;) {
    const auto comma = value.find(',');
    const std::string_view item = trim(value.substr(0, comma));
    if (item.empty() || item.size() > 15) return std::nullopt;  // 10^15 bytes: beyond any limit
    std::uint64_t v = 0;
    for (char c : item) {
      if (c < '0' || c > '9') return std::nullopt;
      v = v * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (out && *out != v) return std::nullopt;
    out = v;
    if (comma == std::string_view::npos) return out;
    value.remove_prefix(comma + 1);
  }
}

}  // namespace

FramingVerdict request_framing(const Fields& fields, unsigned version) {
  FramingVerdict out;
  int transfer_encodings = 0;
  std::string_view coding;
  std::optional<std::uint64_t> length;
  bool length_seen = false;
  for (const auto& [name, value] : fields) {
    if (name == "transfer-encoding") {
      ++transfer_encodings;
      coding = value;
    } else if (name == "content-length") {
      const auto v = parse_length(value);
      if (!v || (length_seen && length != v)) {
        out.error = "conflicting or invalid Content-Length";
        return out;
      }
      length_seen = true;
      length = v;
    }
  }
  if (transfer_encodings > 0) {
    if (version < 11) {
      out.error = "Transfer-Encoding in an HTTP/1.0 request";
    } else if (length_seen) {
      out.error = "Transfer-Encoding and Content-Length together";
    } else if (transfer_encodings > 1) {
      out.error = "more than one Transfer-Encoding field";
    } else if (!is_chunked(coding)) {
      out.error = "unsupported Transfer-Encoding (only \"chunked\" is accepted)";
    } else {
      out.framing.kind = BodyFraming::chunked;
    }
    return out;
  }
  if (length_seen) out.framing = {BodyFraming::content_length, *length};
  return out;
}

}  // namespace ignite::server
