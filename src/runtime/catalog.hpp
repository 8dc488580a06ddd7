// Runtime catalog: which language runtimes are installed, their versions, and how to run them.
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "config/service_config.hpp"
#include "core/result.hpp"
#include "core/spec.hpp"

namespace ignite::runtime {

struct Descriptor;
class ProbeCache;

// One installed runtime version, resolved to host paths.
struct Installed {
  std::string name;                      // "bun"
  std::string version;                   // "1.3.4"
  std::filesystem::path binary;          // host path of the interpreter/launcher
  std::string sandbox_binary;            // the same, as seen inside the sandbox
  std::vector<Mount> mounts;             // read-only binds the runtime needs in the sandbox
  std::vector<std::string> env;          // runtime-specific environment ("BUN_RUNTIME_TRANSPILER_CACHE_PATH=0")
  double baseline_mb = 30;               // memory a trivial program needs (preflight)
  std::uint64_t install_bytes = 0;       // size on disk (preflight image size)
  struct Profile {
    std::string description;
    bool available = false;     // everything it requires is installed on this host
    std::string hint;           // how to make it available
    std::vector<Mount> mounts;  // read-only, in addition to the runtime's
    std::vector<std::string> env;
    double baseline_mb = 0;     // in addition to the runtime's
  };
  std::map<std::string, Profile> profiles;  // runs ask for one by name (service.yaml `profile:`)
  std::string label() const { return name + "@" + version; }
};

// Where runtimes are looked for; injected so tests can point at a temp tree.
struct CatalogRoots {
  std::filesystem::path store;  // runtime store: <store>/<name>/<version>/...
  std::filesystem::path system_bin = "/usr/bin";
};

// The default roots: $IGNITE_RUNTIME_STORE, else $HOME/.local/share/ignite/runtimes.
CatalogRoots default_roots();

class Catalog {
 public:
  explicit Catalog(CatalogRoots roots);

  // Every installed runtime version, newest first within a name.
  std::vector<Installed> list() const;

  // The newest installed version matching the ref (version prefix match: node@20 -> 20.x).
  // Fails with `unsupported` listing what is installed and how to install more.
  Result<Installed> resolve(const config::RuntimeRef& ref) const;

 private:
  std::vector<Installed> installed_versions(const Descriptor& d) const;
  CatalogRoots roots_;
  std::shared_ptr<ProbeCache> probes_;  // shared by copies of the catalog
};

// The argv that runs `entry` (absolute path inside the sandbox) with this runtime.
std::vector<std::string> argv_for(const Installed& rt, const std::string& entry);

}  // namespace ignite::runtime
