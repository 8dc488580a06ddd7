#include "runtime/descriptors.hpp"

#include <filesystem>

namespace ignite::runtime {

const std::vector<Descriptor>& descriptors() {
  static const std::vector<Descriptor> table = [] {
    std::vector<Descriptor> t;
    // Bun: the binary from the npm package, in the runtime store. Its transpiler cache is off
    // because the only writable place is the per-run /tmp.
    t.push_back({"bun", "bin/bun", "", "/opt/ignite/bun", {},
                 {"BUN_RUNTIME_TRANSPILER_CACHE_PATH=0", "BUN_INSTALL_CACHE_DIR=/tmp/.bun"}, {}, 30});
    t.push_back({"node", "bin/node", "node", "/opt/ignite/node", {},
                 {"NODE_OPTIONS="}, {}, 40});
    // Python: Debian's interpreter and stdlib. -E/-s: ignore PYTHON* variables and user site.
    std::vector<std::string> py_mounts;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator("/usr/lib", ec)) {
      const auto n = e.path().filename().string();
      if (n.rfind("python3", 0) == 0) py_mounts.push_back(e.path().string());
    }
    t.push_back({"python", "", "python3", "", {"-E", "-s"},
                 {"PYTHONDONTWRITEBYTECODE=1", "PYTHONUNBUFFERED=1"}, py_mounts, 12});
    return t;
  }();
  return table;
}

const Descriptor* find_descriptor(const std::string& name) {
  for (const auto& d : descriptors()) {
    if (d.name == name) return &d;
  }
  return nullptr;
}

}  // namespace ignite::runtime
