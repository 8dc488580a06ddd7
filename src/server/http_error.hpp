// HttpError: one failure as the HTTP API reports it, {"error":{"code","message"}} + a status.
#pragma once
#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

#include "core/result.hpp"

namespace ignite::server {

struct HttpError {
  int status = 500;
  std::string code;     // machine-readable: "bad_request", "not_found", "queue_full", ...
  std::string message;  // for humans; says which field or limit
  int retry_after_s = 0;  // 429/503: sent as Retry-After when > 0
  std::chrono::milliseconds delay{0};  // answered after this pause (see ServerOptions::reject_delay)
};

inline HttpError bad_request(std::string message) { return {400, "bad_request", std::move(message)}; }
inline HttpError unprocessable(std::string message) {
  return {422, "invalid_request", std::move(message)};
}
inline HttpError not_found(std::string message) { return {404, "not_found", std::move(message)}; }

// CONTRACT §5: {"error":{"code":"…","message":"…"}}.
nlohmann::json error_body(const HttpError& error);

// Ignite's own failures, by kind: what the client sent cannot run (422), we are at capacity
// (429) or a dependency is down (503), everything else is ours (500).
HttpError from_engine_error(const Error& error);

// The default error for a status the transport produced by itself (413, 431, 400 on a bad
// request line).
HttpError for_status(int status);

}  // namespace ignite::server
