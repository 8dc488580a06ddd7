// JobRequest / JobReport: the one request and report type every transport (CLI, HTTP, NATS) uses.
#pragma once
#include <optional>
#include <string>

#include "config/service_config.hpp"
#include "core/execution_result.hpp"
#include "preflight/service_checks.hpp"

namespace ignite::engine {

struct JobRequest {
  config::ServiceConfig service;
  std::optional<std::string> input_json;  // becomes IGNITE_INPUT; unset when no input was given
  bool skip_preflight = false;
  std::string isolation = "native";
};

// The limits a run was given, as reported in the result document (CONTRACT §4 `limits`).
struct ReportedLimits {
  std::uint32_t memory_mb = 0;
  std::uint32_t timeout_ms = 0;
  double cpu_limit = 1;
  bool network = false;
};

struct JobReport {
  std::string service_name;
  std::string runtime;    // resolved, "bun@1.3.4"
  std::string isolation;  // "native"
  ExecutionResult result;
  ReportedLimits limits;
  std::optional<preflight::ServiceReport> preflight;  // unset when skipped
  bool cold_start = true;
};

}  // namespace ignite::engine
