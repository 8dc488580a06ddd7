// Helpers shared by the subcommands: loading a service, building the backend, reporting errors.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "config/service_config.hpp"
#include "core/result.hpp"
#include "cli/backends.hpp"
#include "engine/engine.hpp"
#include "runner/service_index.hpp"
#include "sandbox/backend.hpp"
#include "sys/instance.hpp"
#include "sys/temp_dir.hpp"

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

// This process's instance (its runtime dir and lock), the backend and the engine on it (which
// borrows the backend): members destroy in reverse, the instance last.
struct HostEngine {
  std::unique_ptr<sys::TempDir> fresh_root;  // rootless, when the usual runtime dir was not ours
  std::unique_ptr<sys::Instance> instance;
  std::unique_ptr<sandbox::Backend> backend;  // native: every build step, and native runs
  std::unique_ptr<OtherBackends> others;      // docker, on first use (or at start when the default)
  std::unique_ptr<pool::Pools> pools;  // serve only, over the default backend; before the engine
  std::unique_ptr<engine::Engine> engine;
};
// Registers this process as an instance (collecting what killed ones left: their dirs, cgroups
// and half-built cache entries), then the backend for `isolation` and an engine over the
// default runtime store. Scratch and staging live in the instance's private dir under
// /run/ignite (root) or the user's runtime dir (rootless); artifacts in /var/cache/ignite or
// the user's cache dir.
Result<HostEngine> make_engine(const std::string& isolation, bool allow_degraded);

// What the operator sets for every run of this process (serve's ceilings, the cache's bounds).
// The cache is also configured from the environment: IGNITE_CACHE_DIR, IGNITE_CACHE_MAX_MB (all
// entries, default 4096) and IGNITE_CACHE_ENTRY_MAX_MB (one artifact, default 1024).
struct HostOptions {
  std::string isolation = "native";  // runs that name none (neither request nor service.yaml)
  bool allow_degraded = false;
  std::uint32_t max_memory_mb = 0;  // 0: no ceiling beyond the backend's own
  std::uint32_t max_timeout_ms = 0;
  std::vector<std::string> install_allow;  // networks installs may reach besides public ones
  std::optional<pool::PoolConfig> pools;   // warm pools (serve); none: every run starts cold
  // microVMs restored from a template of their shape rather than booted (vm_template.hpp):
  // long-lived processes; a one-shot run would pay the template's save for one VM.
  bool vm_templates = false;
  // A one-shot command (exec, run): the native backend starts one sandbox init ahead, which the
  // first run takes (NativeConfig::spare_init), and finishes tearing a run's sandbox down while
  // the command reports (NativeConfig::late_teardown).
  bool one_shot = false;
};
Result<HostEngine> make_engine(const HostOptions& options);

// A --services directory at start-up: a name declared by two service directories is the
// operator's to fix before serving (the error); directories that do not load are logged and
// left out (an edit while running is reported per request instead).
Status check_services(const runner::ServiceIndex& services, const std::string& dir);

// load_service + an optional runtime override from --runtime.
Result<config::ServiceConfig> load_service_with(const std::string& dir,
                                                const std::string& runtime_override);

// Live output to the terminal for plain runs; no sink for --json (output goes in the document).
sandbox::OutputSink terminal_sink(bool json);

// Prints the result document (--json) or the summary line, and returns the CONTRACT §2 exit code.
// `out_dir`: where --out wrote the program's files ("" when not asked), for the summary.
int emit_report(const engine::JobReport& report, bool json, const std::string& out_dir = "");

}  // namespace ignite::cli
