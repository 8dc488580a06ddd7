// Request bodies decoded into engine requests, for every transport (pure: no I/O, unit-tested).
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "engine/job.hpp"
#include "api/request_error.hpp"

namespace ignite::api {

// What ad-hoc requests may ask for, and what they get when they do not ask.
struct AdhocLimits {
  std::uint32_t max_memory_mb = 1024;
  std::uint32_t max_timeout_ms = 60000;
  std::uint32_t default_memory_mb = 128;
  std::uint32_t default_timeout_ms = 10000;
};

// Parses a body as a JSON object; "" counts as {}. 400 with the parser's reason otherwise.
Decoded<nlohmann::json> parse_object(std::string_view body);

struct ServiceExecute {
  std::optional<std::string> input_json;  // canonical JSON text of "input", unset when absent
  bool skip_preflight = false;
};
// POST /services/:name/execute: {"input": any, "skipPreflight": bool}.
Decoded<ServiceExecute> decode_service_execute(std::string_view body);
// The same for a document already parsed (bounded) by the caller: an Ignis job, MCP arguments.
Decoded<ServiceExecute> decode_service_execute_object(const nlohmann::json& doc);

struct AdhocJob {
  engine::AdhocRequest request;
  std::string idempotency_key;  // POST /v1/jobs only
};
// POST /v1/execute and /v1/jobs: {"runtime","version","code"|"files","stdin","input","args",
// "memoryMb","timeoutMs","isolation","profile"[,"idempotencyKey"]}. 400: malformed JSON or a field of the wrong type;
// 422: well-formed but impossible (unknown runtime, limits out of range, code and files).
Decoded<AdhocJob> decode_adhoc(std::string_view body, const AdhocLimits& limits);
Decoded<AdhocJob> decode_adhoc_object(const nlohmann::json& doc, const AdhocLimits& limits);

}  // namespace ignite::api
