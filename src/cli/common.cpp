#include "cli/common.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include <nlohmann/json.hpp>

#include "api/json_limits.hpp"
#include "api/result_json.hpp"
#include "sandbox/native/native_backend.hpp"
#include "sys/files.hpp"

namespace ignite::cli {

int report_error(const Error& error) {
  std::fprintf(stderr, "ignite: %s\n", error.message.c_str());
  return kIgniteFailure;
}

Result<std::string> read_input_arg(const std::string& arg) {
  std::string text = arg;
  if (!arg.empty() && arg[0] == '@') {
    auto file = sys::read_file(arg.substr(1));
    if (!file) return fail(ErrorCode::invalid_argument, "--input: " + file.error().message);
    text = *file;
  }
  // Security: bounded nesting (a deep document would crash dump() below on the stack).
  auto doc = api::parse_json_bounded(text);
  if (!doc) return fail(ErrorCode::invalid_argument, "--input is " + doc.error().message);
  // Re-serialise compactly: the program sees one canonical line.
  return doc->dump();
}

namespace {

// Rootless runs keep scratch and staging in the user's runtime dir ($XDG_RUNTIME_DIR/ignite,
// else /tmp/ignite-UID); root uses the backend's and engine's defaults under /run.
std::filesystem::path user_runtime_dir() {
  const char* xdg = std::getenv("XDG_RUNTIME_DIR");
  return xdg && *xdg ? std::filesystem::path(xdg) / "ignite"
                     : std::filesystem::path("/tmp") / ("ignite-" + std::to_string(::geteuid()));
}

Result<std::unique_ptr<sandbox::Backend>> make_backend(const std::string& isolation,
                                                       bool allow_degraded) {
  if (isolation != "native")
    return fail(ErrorCode::unsupported,
                "isolation '" + isolation + "' is not available in this build (available: native)");
  sandbox::native::NativeConfig config;
  config.allow_degraded = allow_degraded;
  if (::geteuid() != 0) config.scratch_root = user_runtime_dir();
  return sandbox::native::make_native_backend(std::move(config));
}

engine::EngineConfig engine_config() {
  engine::EngineConfig config;
  if (::geteuid() != 0) {
    const char* home = std::getenv("HOME");
    config.work_root = user_runtime_dir() / "work";
    config.cache_root = std::filesystem::path(home && *home ? home : "/tmp") / ".cache/ignite";
  }
  return config;
}

}  // namespace

Result<HostEngine> make_engine(const std::string& isolation, bool allow_degraded) {
  IGNITE_TRY_ASSIGN(std::unique_ptr<sandbox::Backend> backend, make_backend(isolation, allow_degraded));
  auto engine = std::make_unique<engine::Engine>(*backend, runtime::Catalog(runtime::default_roots()),
                                                 engine_config());
  return HostEngine{std::move(backend), std::move(engine)};
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

void write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n <= 0) return;  // the reader is gone; the run goes on regardless
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

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

}  // namespace

sandbox::OutputSink terminal_sink(bool json) {
  if (json) return {};
  return [](sandbox::Stream s, std::string_view chunk) {
    write_all(s == sandbox::Stream::out ? STDOUT_FILENO : STDERR_FILENO, chunk);
  };
}

int emit_report(const engine::JobReport& report, bool json) {
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
  }
  const auto& r = report.result;
  return cli_exit_code(r.outcome, r.exit_code, r.signal);
}

}  // namespace ignite::cli
