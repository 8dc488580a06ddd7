// Helpers shared by the subcommands: loading a service, building the backend, reporting errors.
#pragma once
#include <memory>
#include <optional>
#include <string>

#include "config/service_config.hpp"
#include "core/result.hpp"
#include "engine/engine.hpp"
#include "sandbox/backend.hpp"
#include "sys/instance.hpp"

namespace ignite::cli {

constexpr int kIgniteFailure = 125;  // CONTRACT §2: Ignite itself could not run it

// Prints "ignite: <message>" on stderr and returns 125.
int report_error(const Error& error);

// `--input JSON|@file`: the JSON text (validated), or an error naming what is wrong.
Result<std::string> read_input_arg(const std::string& arg);

// This process's instance (its runtime dir and lock), the backend and the engine on it (which
// borrows the backend): members destroy in reverse, the instance last.
struct HostEngine {
  std::unique_ptr<sys::Instance> instance;
  std::unique_ptr<sandbox::Backend> backend;
  std::unique_ptr<engine::Engine> engine;
};
// Registers this process as an instance (collecting what killed ones left: their dirs, cgroups
// and half-built cache entries), then the backend for `isolation` and an engine over the
// default runtime store. Scratch and staging live in the instance's private dir under
// /run/ignite (root) or the user's runtime dir (rootless); artifacts in /var/cache/ignite or
// the user's cache dir.
Result<HostEngine> make_engine(const std::string& isolation, bool allow_degraded);

// load_service + an optional runtime override from --runtime.
Result<config::ServiceConfig> load_service_with(const std::string& dir,
                                                const std::string& runtime_override);

// Live output to the terminal for plain runs; no sink for --json (output goes in the document).
sandbox::OutputSink terminal_sink(bool json);

// Prints the result document (--json) or the summary line, and returns the CONTRACT §2 exit code.
int emit_report(const engine::JobReport& report, bool json);

}  // namespace ignite::cli
