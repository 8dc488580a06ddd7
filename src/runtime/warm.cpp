#include "runtime/warm.hpp"

#include <map>
#include <mutex>

#include <spdlog/spdlog.h>

#include "runtime/installer_process.hpp"
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

constexpr std::string_view kPythonPath = "/opt/ignite/warm/bootstrap.py";

// What `python3 file.pyc` runs: the interpreter's magic number, 12 bytes it skips (flags, and a
// source mtime and size it does not check for a file named on the command line), the marshalled
// code. Made by the interpreter itself, so magic and marshal format are that version's. -I -S:
// nothing from the environment, the working directory or site-packages is involved.
constexpr std::string_view kCompilePython =
    "import importlib.util, marshal, sys\n"
    "code = compile(sys.argv[1], sys.argv[2], 'exec', dont_inherit=True)\n"
    "sys.stdout.buffer.write(importlib.util.MAGIC_NUMBER + bytes(12) + marshal.dumps(code))\n";

std::optional<std::string> compile_python_bootstrap(const std::filesystem::path& interpreter) {
  const Command compile{{interpreter.string(), "-I", "-S", "-c", std::string(kCompilePython),
                         std::string(kPython), std::string(kPythonPath)},
                        {}, {}, std::chrono::seconds(30)};
  auto run = run_command(compile);
  // Every CPython magic number ends in "\r\n"; anything else is not a .pyc of this interpreter.
  if (run && run->ok() && run->out.size() > 16 && run->out.compare(2, 2, "\r\n") == 0) return std::move(run->out);
  const std::string why = !run        ? run.error().message
                          : run->ok() ? "its output is not a .pyc: " + std::to_string(run->out.size()) + " bytes"
                                      : describe_failure(compile, *run);
  spdlog::warn("warm python slots run their bootstrap from source: {} could not compile it ({})",
               interpreter.string(), why);
  return std::nullopt;
}

}  // namespace

std::optional<WarmBootstrap> warm_bootstrap(const Installed& rt) {
  if (rt.name != "python" || rt.binary.empty()) return warm_bootstrap(rt.name);
  // Held for the process's life (the views point into it): one entry per interpreter and
  // version, and a new version (its own magic number) is a new entry.
  static std::mutex mu;
  static std::map<std::string, std::optional<std::string>> compiled;
  std::lock_guard lock(mu);
  const std::string key = rt.binary.string() + '\0' + rt.version;
  auto it = compiled.find(key);
  if (it == compiled.end()) it = compiled.emplace(key, compile_python_bootstrap(rt.binary)).first;
  if (!it->second) return warm_bootstrap(rt.name);
  return WarmBootstrap{"/opt/ignite/warm/bootstrap.pyc", *it->second, false};
}

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
  if (runtime_name == "python") return WarmBootstrap{kPythonPath, kPython, false};
  if (runtime_name == "node" || runtime_name == "bun") return WarmBootstrap{"/opt/ignite/warm/bootstrap.cjs", kNode, false};
  if (runtime_name == "deno") return WarmBootstrap{"/opt/ignite/warm/bootstrap.js", kDeno, false};
  return std::nullopt;
}

}  // namespace ignite::runtime
