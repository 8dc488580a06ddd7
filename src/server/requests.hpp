// The HTTP routes decode request bodies with the transport-neutral decoders (api/requests.hpp);
// these names keep the routes' code as it reads.
#pragma once
#include "api/requests.hpp"
#include "server/http_error.hpp"

namespace ignite::server {

using api::AdhocJob;
using api::AdhocLimits;
using api::decode_adhoc;
using api::decode_service_execute;
using api::parse_object;
using api::ServiceExecute;

}  // namespace ignite::server
