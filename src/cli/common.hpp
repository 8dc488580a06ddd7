// Helpers shared by the subcommands: loading a service, building the backend, reporting errors.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "config/service_config.hpp"
#include "core/result.hpp"
#include "engine/engine.hpp"
#include "sandbox/backend.hpp"

namespace ignite::cli {

constexpr int kIgniteFailure = 125;  // CONTRACT §2: Ignite itself could not run it

// Prints "ignite: <message>" on stderr and returns 125.
int report_error(const Error& error);

// The most an `@FILE` argument (--input, --stdin, exec's program file) may hold: 16 MiB, so
// `@/dev/zero` is an error rather than an allocation failure. Above the server's default body
// limit; what the sandbox accepts is bounded again by the engine.
constexpr std::uint64_t kMaxArgFileBytes = 16u << 20;

// Reads `@FILE`'s file for `option` ("--stdin"): its bytes, or "--stdin: <path>: larger than
// 16777216 bytes (the limit for @FILE arguments)" and the like.
Result<std::string> read_arg_file(const std::string& option, const std::string& path);

// `--input JSON|@file`: the JSON text (validated), or an error naming what is wrong.
Result<std::string> read_input_arg(const std::string& arg);

// The backend and the engine on it (which borrows the backend: members destroy in reverse).
struct HostEngine {
  std::unique_ptr<sandbox::Backend> backend;
  std::unique_ptr<engine::Engine> engine;
};
// The backend for `isolation` with this host's defaults (scratch under /run, or the user's
// runtime dir rootless), and an engine over the default runtime store; its staging and cache
// dirs are under /run and /var/cache (root) or the user's runtime and cache dirs (rootless).
Result<HostEngine> make_engine(const std::string& isolation, bool allow_degraded);

// load_service + an optional runtime override from --runtime.
Result<config::ServiceConfig> load_service_with(const std::string& dir,
                                                const std::string& runtime_override);

// Live output to the terminal for plain runs; no sink for --json (output goes in the document).
sandbox::OutputSink terminal_sink(bool json);

// Prints the result document (--json) or the summary line, and returns the CONTRACT §2 exit code.
int emit_report(const engine::JobReport& report, bool json);

}  // namespace ignite::cli
