#include "runtime/warm.hpp"

#include "sys/files.hpp"
#include "sys/helper_binary.hpp"

namespace ignite::runtime {
namespace {

constexpr std::string_view kPython =
#include "warm_python_py.inc"
    ;
constexpr std::string_view kNode =
#include "warm_node_js.inc"
    ;
constexpr std::string_view kDeno =
#include "warm_deno_js.inc"
    ;

}  // namespace


std::optional<std::filesystem::path> warm_exec_binary() { return sys::helper_binary("IGNITE_WARM_EXEC", "ignite-warm-exec"); }

std::optional<std::filesystem::path> docker_init_binary() {
  return sys::helper_binary("IGNITE_DOCKER_INIT", "ignite-docker-init");
}

std::optional<WarmBootstrap> warm_bootstrap(std::string_view runtime_name) {
  if (runtime_name == "go" || runtime_name == "exec") {
    // Read once: 0.8 MB, copied into each go slot's root tmpfs (charged to that slot).
    static const std::optional<std::string> bytes = []() -> std::optional<std::string> {
      auto binary = warm_exec_binary();
      if (!binary) return std::nullopt;
      auto content = sys::read_file(*binary, 16u << 20);
      return content ? std::optional<std::string>(std::move(*content)) : std::nullopt;
    }();
    if (!bytes) return std::nullopt;
    return WarmBootstrap{"/opt/ignite/warm/exec", *bytes, true};
  }
  if (runtime_name == "python") return WarmBootstrap{"/opt/ignite/warm/bootstrap.py", kPython, false};
  if (runtime_name == "node" || runtime_name == "bun") return WarmBootstrap{"/opt/ignite/warm/bootstrap.cjs", kNode, false};
  if (runtime_name == "deno") return WarmBootstrap{"/opt/ignite/warm/bootstrap.js", kDeno, false};
  return std::nullopt;
}

}  // namespace ignite::runtime
