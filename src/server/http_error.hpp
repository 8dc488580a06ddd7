// HttpError: one failure as the HTTP API reports it, {"error":{"code","message"}} + a status.
// The type is the transport-neutral api::RequestError; only the statuses the HTTP transport
// produces by itself are named here.
#pragma once
#include "api/request_error.hpp"

namespace ignite::server {

using HttpError = api::RequestError;
using api::bad_request;
using api::Decoded;
using api::error_body;
using api::from_engine_error;
using api::not_found;
using api::unprocessable;

// The default error for a status the transport produced by itself (413, 431, 400 on a bad
// request line).
HttpError for_status(int status);

}  // namespace ignite::server
