#include "server/http_error.hpp"

#include "api/result_json.hpp"

namespace ignite::server {

nlohmann::json error_body(const HttpError& error) {
  // Messages may quote request text or file names: keep the body serializable.
  return {{"error", {{"code", error.code}, {"message", api::sanitize_utf8(error.message)}}}};
}

HttpError from_engine_error(const Error& error) {
  switch (error.code) {
    case ErrorCode::invalid_argument:
      return {422, "invalid_request", error.message};
    case ErrorCode::unsupported:
      return {422, "unsupported", error.message};  // e.g. the runtime is not installed here
    case ErrorCode::failed_precondition:
      return {422, "preflight_failed", error.message};
    case ErrorCode::resource_exhausted:
      return {429, "resource_exhausted", error.message};
    case ErrorCode::unavailable:
      return {503, "unavailable", error.message};
    case ErrorCode::permission_denied:
    case ErrorCode::internal:
      break;
  }
  // Security: our own failures name host paths (scratch, staging, cgroups); clients get a
  // generic message, the server log the whole one (see ServerState::run_admitted).
  return {500, "internal", "Ignite could not run this; the server log has the details"};
}

HttpError for_status(int status) {
  switch (status) {
    case 400: return bad_request("malformed HTTP request");
    case 401: return {401, "unauthorized", "missing or wrong API key"};
    case 404: return not_found("no such route");
    case 405: return {405, "method_not_allowed", "method not allowed on this route"};
    case 408: return {408, "timeout", "the request was not received in time"};
    case 413: return {413, "payload_too_large", "request body is larger than the limit"};
    case 414: return {414, "uri_too_long", "request URI is too long"};
    case 431: return {431, "header_too_large", "request header fields are too large"};
    case 429: return {429, "too_many_requests", "too many requests"};
    case 503: return {503, "unavailable", "the server is not accepting work"};
    default: break;
  }
  return {status, status >= 500 ? "internal" : "error", "HTTP " + std::to_string(status)};
}

}  // namespace ignite::server
