#include "cli/common.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include "core/json_limits.hpp"
#include "api/result_json.hpp"
#include "sandbox/native/egress_policy.hpp"
#include "sandbox/native/native_backend.hpp"
#include "sys/files.hpp"
#include "sys/instance.hpp"
#include "sys/owned_dir.hpp"
#include "sys/write_all.hpp"

namespace ignite::cli {

int report_error(const Error& error) {
  std::fprintf(stderr, "ignite: %s\n", error.message.c_str());
  return kIgniteFailure;
}

Result<std::string> read_arg_file(const std::string& option, const std::string& path) {
  auto file = sys::read_file(path, kMaxArgFileBytes);
  if (!file) {
    const bool too_large = file.error().code == ErrorCode::invalid_argument;
    return fail(ErrorCode::invalid_argument,
                option + ": " + file.error().message +
                    (too_large ? " (the limit for @FILE arguments)" : ""));
  }
  return std::move(*file);
}

Result<std::string> read_input_arg(const std::string& arg) {
  std::string text = arg;
  if (!arg.empty() && arg[0] == '@') {
    IGNITE_TRY_ASSIGN(text, read_arg_file("--input", arg.substr(1)));
  }
  // Security: bounded nesting (a deep document would crash dump() below on the stack).
  auto doc = parse_json_bounded(text);
  if (!doc) return fail(ErrorCode::invalid_argument, "--input is " + doc.error().message);
  // Re-serialise compactly: the program sees one canonical line.
  return doc->dump();
}

namespace {

namespace fs = std::filesystem;

// Where this process keeps its per-run dirs and staged code: /run/ignite as root; rootless,
// $XDG_RUNTIME_DIR/ignite, else /tmp/ignite-UID — but only if it is ours and private (another
// local user could have made it first to swap what we stage), else a fresh private dir.
// The fresh dir, when one was needed, is `fresh` (removed with the process's engine).
Result<fs::path> runtime_root(std::unique_ptr<sys::TempDir>& fresh) {
  if (::geteuid() == 0) return fs::path("/run/ignite");
  const char* xdg = std::getenv("XDG_RUNTIME_DIR");
  if (xdg && *xdg == '/') return fs::path(xdg) / "ignite";
  const fs::path usual = fs::path("/tmp") / ("ignite-" + std::to_string(::geteuid()));
  auto trusted = sys::ensure_owned_dir(usual, 0700);
  if (trusted) return usual;
  std::fprintf(stderr, "ignite: warning: %s; using a fresh private dir instead\n",
               trusted.error().message.c_str());
  IGNITE_TRY_ASSIGN(sys::TempDir dir, sys::TempDir::create("/tmp", usual.filename().string() + "-"));
  fresh = std::make_unique<sys::TempDir>(std::move(dir));
  return fresh->path();
}

// Build artifacts: /var/cache/ignite as root; rootless, $XDG_CACHE_HOME/ignite or ~/.cache/ignite.
fs::path cache_root() {
  if (::geteuid() == 0) return "/var/cache/ignite";
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  if (xdg && *xdg == '/') return fs::path(xdg) / "ignite";
  const char* home = std::getenv("HOME");
  if (home && *home == '/') return fs::path(home) / ".cache/ignite";
  // No home: a per-user dir of its own (a shared /tmp/.cache could be anybody's).
  return fs::path("/tmp") / ("ignite-cache-" + std::to_string(::geteuid()));
}

Result<std::unique_ptr<sandbox::Backend>> make_native(const HostOptions& options, const sys::Instance& instance) {
  sandbox::native::NativeConfig config;
  config.allow_degraded = options.allow_degraded;
  config.spare_init = options.one_shot;
  config.late_teardown = options.one_shot;
  config.scratch_root = instance.dir();
  config.run_prefix = instance.tag("");
  config.id_lock_dir = instance.runtime_root() / "ids";
  config.stale_run = left_by_dead_instance(instance.runtime_root());
  // Beside the build cache: on the disk /usr and the runtime store are on, on most hosts.
  config.shared_empty = cache_root() / "overlay-empty";
  return sandbox::native::make_native_backend(std::move(config));
}

// A size in MB from the environment: `fallback` when unset; an error naming the variable when
// it is not a positive number.
Result<std::uint64_t> megabytes_from_env(const char* name, std::uint64_t fallback) {
  const char* text = std::getenv(name);
  if (!text || !*text) return fallback << 20;
  char* end = nullptr;
  const unsigned long long mb = std::strtoull(text, &end, 10);
  if (*end || mb == 0 || mb > (1ull << 24))
    return fail(ErrorCode::invalid_argument, std::string(name) + " must be a size in MB (1.." +
                                                 std::to_string(1ull << 24) + "), not '" + text + "'");
  return static_cast<std::uint64_t>(mb) << 20;
}

Result<engine::CacheConfig> cache_config(const sys::Instance& instance) {
  engine::CacheConfig c;
  const char* dir = std::getenv("IGNITE_CACHE_DIR");
  if (dir && *dir && *dir != '/')
    return fail(ErrorCode::invalid_argument, "IGNITE_CACHE_DIR must be an absolute path");
  c.root = dir && *dir ? fs::path(dir) : cache_root();
  IGNITE_TRY_ASSIGN(c.max_bytes, megabytes_from_env("IGNITE_CACHE_MAX_MB", 4096));
  IGNITE_TRY_ASSIGN(c.max_entry_bytes, megabytes_from_env("IGNITE_CACHE_ENTRY_MAX_MB", 1024));
  c.run_prefix = instance.tag("");
  c.stale = left_by_dead_instance(instance.runtime_root());
  return c;
}

}  // namespace

Result<HostEngine> make_engine(const std::string& isolation, bool allow_degraded) {
  HostOptions options;
  options.isolation = isolation;
  options.allow_degraded = allow_degraded;
  // One run (exec, run): its sandbox's init starts now, beside the rest of the set-up, and its
  // teardown ends after the report. Only when that run is native: another backend's run would
  // leave the spare unused.
  options.one_shot = isolation == "native";
  return make_engine(options);
}

Result<HostEngine> make_engine(const HostOptions& options) {
  for (const auto& net : options.install_allow) {
    if (auto parsed = sandbox::native::parse_cidr(net); !parsed)
      return fail(ErrorCode::invalid_argument, "--install-allow-net: " + parsed.error().message);
  }
  HostEngine host;
  IGNITE_TRY_ASSIGN(fs::path root, runtime_root(host.fresh_root));
  // Root's runtime dir is the host's: in memory (runtime_memory.hpp). A user's dir is left as is.
  const auto placement = ::geteuid() == 0 ? sys::Instance::Placement::in_memory : sys::Instance::Placement::as_is;
  IGNITE_TRY_ASSIGN(sys::Instance instance, sys::Instance::create(root, placement));
  host.instance = std::make_unique<sys::Instance>(std::move(instance));
  if (!config::valid_isolation(options.isolation))
    return fail(ErrorCode::invalid_argument, "--isolation: '" + options.isolation + "' is not a backend (native, docker or microvm)");
  IGNITE_TRY_ASSIGN(host.backend, make_native(options, *host.instance));
  // Other backends on first use; the default one now, so that a server fails at start, not
  // at its first request.
  host.others =
      std::make_unique<OtherBackends>(docker_config(*host.instance), *host.instance, options.vm_templates);
  sandbox::Backend* default_backend = host.backend.get();
  if (options.isolation != "native") {
    IGNITE_TRY_ASSIGN(default_backend, host.others->get(options.isolation));
  }
  engine::EngineConfig config;
  config.work_root = host.instance->dir() / "work";
  IGNITE_TRY_ASSIGN(config.cache, cache_config(*host.instance));
  config.max_memory_mb = options.max_memory_mb;
  config.max_timeout_ms = options.max_timeout_ms;
  config.egress_allow = options.install_allow;
  config.default_isolation = options.isolation;
  config.backend_for = [others = host.others.get()](std::string_view name) { return others->get(name); };
  config.image_bytes = [others = host.others.get()](const SandboxSpec& spec) { return others->docker_image_bytes(spec); };
  if (options.pools && !options.pools->runtimes.empty())
    host.pools = std::make_unique<pool::Pools>(*default_backend, *options.pools);
  host.engine = std::make_unique<engine::Engine>(*host.backend, runtime::Catalog(runtime::default_roots()),
                                                 std::move(config), host.pools.get());
  return host;
}

Result<config::ServiceConfig> load_service_with(const std::string& dir,
                                                const std::string& runtime_override) {
  IGNITE_TRY_ASSIGN(config::ServiceConfig service, config::load_service(dir, config::process_env()));
  if (!runtime_override.empty()) {
    auto rt = config::parse_runtime_ref(runtime_override);
    if (!rt) return fail(ErrorCode::invalid_argument, "--runtime: " + rt.error().message);
    service.runtime = *rt;
  }
  return service;
}

namespace {

// The reader may be gone; the run goes on regardless.
void write_all(int fd, std::string_view data) { (void)sys::write_all(fd, data); }

// One human line on stderr after a plain run: status, time, CPU, peak memory.
void print_summary(const engine::JobReport& r) {
  const auto& res = r.result;
  std::fprintf(stderr, "[ignite] %s (%s) in %.1f ms, cpu %.1f ms, peak memory %.1f MB%s%s\n",
               std::string(status_name(res.outcome, res.exit_code)).c_str(), r.runtime.c_str(),
               static_cast<double>(res.usage.wall.count()) / 1000.0,
               static_cast<double>(res.usage.cpu.count()) / 1000.0,
               static_cast<double>(res.usage.peak_memory_bytes) / (1024.0 * 1024.0),
               res.detail.empty() ? "" : ": ", res.detail.c_str());
}

// What became of the program's /out, on stderr: where its files went, or how to get them.
void print_files_summary(const engine::JobReport& r, const std::string& out_dir) {
  if (!r.files.empty()) {
    if (out_dir.empty())
      std::fprintf(stderr, "[ignite] the program left %zu file(s) in /out (--out DIR writes them, --json carries them)\n",
                   r.files.size());
    else
      std::fprintf(stderr, "[ignite] %zu file(s) from /out written to %s\n", r.files.size(), out_dir.c_str());
  }
  if (r.files_truncated)
    std::fprintf(stderr, "[ignite] some files in /out were left out: over the result's size cap\n");
  if (!r.files_error.empty()) std::fprintf(stderr, "[ignite] /out not taken: %s\n", r.files_error.c_str());
}

}  // namespace

sandbox::OutputSink terminal_sink(bool json) {
  if (json) return {};
  return [](sandbox::Stream s, std::string_view chunk) {
    write_all(s == sandbox::Stream::out ? STDOUT_FILENO : STDERR_FILENO, chunk);
  };
}

int emit_report(const engine::JobReport& report, bool json, const std::string& out_dir) {
  if (json) {
    write_all(STDOUT_FILENO, api::result_document(report).dump() + "\n");
  } else {
    if (report.preflight) {
      for (const auto& c : report.preflight->checks) {
        if (c.status == preflight::CheckStatus::warn)
          std::fprintf(stderr, "[preflight] warning: %s: %s\n", c.name.c_str(), c.message.c_str());
      }
    }
    // A failed build step is the result; its output was not streamed, so show it now.
    if (report.compile && !(report.compile->outcome == Outcome::exited && report.compile->exit_code == 0)) {
      write_all(STDERR_FILENO, report.compile->stdout_data);
      write_all(STDERR_FILENO, report.compile->stderr_data);
      std::fprintf(stderr, "[ignite] compilation failed\n");
    }
    print_summary(report);
    print_files_summary(report, out_dir);
  }
  const auto& r = report.result;
  return cli_exit_code(r.outcome, r.exit_code, r.signal);
}

Status check_services(const runner::ServiceIndex& services, const std::string& dir) {
  if (auto unique = services.check_unique_names(); !unique)
    return fail(std::move(unique).error().with_context("--services " + dir));
  for (const auto& bad : services.invalid()) spdlog::warn("--services: {} is not served: {}", bad.directory, bad.error);
  return ok();
}

}  // namespace ignite::cli
