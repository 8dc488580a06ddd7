// RequestError: why a request (HTTP, NATS, MCP) is refused or failed, as every transport reports
// it: a status class (the HTTP status, which the other transports use as a classification), a
// machine-readable code and a message that names the field or limit.
#pragma once
#include <chrono>
#include <string>
#include <variant>

#include <nlohmann/json.hpp>

#include "core/result.hpp"

namespace ignite::api {

struct RequestError {
  int status = 500;
  std::string code;     // machine-readable: "bad_request", "not_found", "queue_full", ...
  std::string message;  // for humans; says which field or limit
  int retry_after_s = 0;  // 429/503: sent as Retry-After when > 0
  std::chrono::milliseconds delay{0};  // answered after this pause (see ServerOptions::reject_delay)
  std::string field{};  // the request field at fault, as a path ("files[2].name"); "" for none
};

// A decoded request, or why it could not be decoded.
template <class T>
using Decoded = std::variant<T, RequestError>;

inline RequestError bad_request(std::string message) { return {400, "bad_request", std::move(message)}; }
inline RequestError unprocessable(std::string message) {
  return {422, "invalid_request", std::move(message)};
}
inline RequestError not_found(std::string message) { return {404, "not_found", std::move(message)}; }

// CONTRACT §5: {"error":{"code":"…","message":"…"}}, and "field" when one field is at fault.
nlohmann::json error_body(const RequestError& error);

// Ignite's own failures, by kind: what the client sent cannot run (422), we are at capacity
// (429) or a dependency is down (503), everything else is ours (500).
RequestError from_engine_error(const Error& error);

}  // namespace ignite::api
