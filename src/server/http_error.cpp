#include "server/http_error.hpp"

namespace ignite::server {

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
