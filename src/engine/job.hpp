// JobRequest / JobReport: the one request and report type every transport (CLI, HTTP, NATS) uses.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "config/service_config.hpp"
#include "core/execution_result.hpp"
#include "preflight/service_checks.hpp"

namespace ignite::engine {

struct JobRequest {
  config::ServiceConfig service;
  std::optional<std::string> input_json;  // becomes IGNITE_INPUT; unset when no input was given
  bool skip_preflight = false;
  // "native" | "docker" | ...; empty: the service's own (service.yaml), else the engine's default.
  std::string isolation;
};

// One source file of an ad-hoc job; `name` is relative ("main.py", "lib/util.py").
struct SourceFile {
  std::string name;
  std::string content;
};

// Ad-hoc code without a service directory (`ignite exec`, POST /v1/execute, Piston, NATS jobs).
struct AdhocRequest {
  config::RuntimeRef runtime;
  std::vector<SourceFile> files;  // files[0] is the entry point
  std::string stdin_data;
  std::optional<std::string> input_json;  // IGNITE_INPUT
  std::vector<std::string> args;          // after the entry file
  std::uint32_t memory_mb = 128;
  std::uint32_t timeout_ms = 10000;
  double cpu_limit = 1;
  bool network = false;
  std::string isolation;  // empty: the engine's default
  std::string profile;    // a runtime profile ("datascience"); empty: none
};

// The limits a run was given, as reported in the result document (CONTRACT §4 `limits`).
struct ReportedLimits {
  std::uint32_t memory_mb = 0;
  std::uint32_t timeout_ms = 0;
  double cpu_limit = 1;
  bool network = false;
};

// A file the program left in /out, as the result document carries it (CONTRACT §4 `files`).
struct OutputFile {
  std::string path;       // relative to /out, '/'-separated
  std::string mime_type;  // from the name and the first bytes
  std::string content;    // the bytes
};

struct JobReport {
  std::string service_name;
  std::string runtime;    // resolved, "bun@1.3.4"
  std::string isolation;  // "native"
  ExecutionResult result;
  ReportedLimits limits;
  std::optional<preflight::ServiceReport> preflight;  // unset when skipped
  std::optional<ExecutionResult> compile;  // the build step (go, transpiled TypeScript), if it ran
  bool compile_cached = false;             // the build artifact was reused: no step ran
  std::optional<ExecutionResult> install;  // the dependency install step, if it ran
  bool install_cached = false;             // node_modules were reused: no install ran
  bool cold_start = true;
  // What the program left in /out: regular files, in walk order, while they fit the cap of the
  // result document; `files_truncated` when some did not; `files_error` when the host refused
  // the whole tree (a FIFO, a device, too many entries, too large).
  std::vector<OutputFile> files;
  bool files_truncated = false;
  std::string files_error;
};

}  // namespace ignite::engine
