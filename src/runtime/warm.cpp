#include "runtime/warm.hpp"

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

std::optional<WarmBootstrap> warm_bootstrap(std::string_view runtime_name) {
  if (runtime_name == "python") return WarmBootstrap{"/opt/ignite/warm/bootstrap.py", kPython};
  if (runtime_name == "node" || runtime_name == "bun") return WarmBootstrap{"/opt/ignite/warm/bootstrap.cjs", kNode};
  if (runtime_name == "deno") return WarmBootstrap{"/opt/ignite/warm/bootstrap.js", kDeno};
  return std::nullopt;
}

}  // namespace ignite::runtime
