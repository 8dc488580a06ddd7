#include "cli/common.hpp"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include <nlohmann/json.hpp>

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
  if (!nlohmann::json::accept(text))
    return fail(ErrorCode::invalid_argument, "--input is not valid JSON: " + text.substr(0, 80));
  // Re-serialise compactly: the program sees one canonical line.
  return nlohmann::json::parse(text).dump();
}

Result<std::unique_ptr<sandbox::Backend>> make_backend(const std::string& isolation,
                                                       bool allow_degraded) {
  if (isolation != "native")
    return fail(ErrorCode::unsupported,
                "isolation '" + isolation + "' is not available in this build (available: native)");
  sandbox::native::NativeConfig config;
  config.allow_degraded = allow_degraded;
  if (::geteuid() != 0) {
    const char* xdg = std::getenv("XDG_RUNTIME_DIR");
    config.scratch_root = xdg && *xdg ? std::filesystem::path(xdg) / "ignite"
                                      : std::filesystem::path("/tmp") /
                                            ("ignite-" + std::to_string(::geteuid()));
  }
  return sandbox::native::make_native_backend(std::move(config));
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

}  // namespace ignite::cli
