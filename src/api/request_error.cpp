#include "api/request_error.hpp"

#include "api/result_json.hpp"

namespace ignite::api {

nlohmann::json error_body(const RequestError& error) {
  // Messages may quote request text or file names: keep the body serializable.
  nlohmann::json body = {{"error", {{"code", error.code}, {"message", sanitize_utf8(error.message)}}}};
  if (!error.field.empty()) body["error"]["field"] = sanitize_utf8(error.field);
  return body;
}

RequestError from_engine_error(const Error& error) {
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
  // generic message, the server log the whole one (see runner::Runner::run_admitted).
  return {500, "internal", "Ignite could not run this; the server log has the details"};
}

}  // namespace ignite::api
