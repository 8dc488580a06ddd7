// Standard base64 (RFC 4648, with padding): bytes that are not text in JSON documents — the
// result document's output and /out files, and the microvm guest protocol's frames.
#pragma once
#include <string>
#include <string_view>

namespace ignite {

std::string base64_encode(std::string_view data);

}  // namespace ignite
