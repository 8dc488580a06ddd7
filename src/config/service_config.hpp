// ServiceConfig: a service directory's service.yaml, loaded, expanded and validated (CONTRACT §1).
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.hpp"

namespace ignite::config {

// `bun`, `node@20`, `python@3.11`: a runtime name and an optional version prefix.
struct RuntimeRef {
  std::string name = "bun";
  std::string version;  // "" = whatever is installed (newest)
  std::string to_string() const { return version.empty() ? name : name + "@" + version; }
  friend bool operator==(const RuntimeRef&, const RuntimeRef&) = default;
};

// preflight.memory in service.yaml. estimated = base_mb + per_dependency_mb * deps;
// ratio = memoryMb / estimated; fail below fail_ratio, warn below warn_ratio.
struct MemoryThresholds {
  std::optional<double> base_mb;  // unset: the runtime's own baseline
  double per_dependency_mb = 2;
  double warn_ratio = 1.0;
  double fail_ratio = 0.8;
  friend bool operator==(const MemoryThresholds&, const MemoryThresholds&) = default;
};

struct PreflightThresholds {
  MemoryThresholds memory;
  friend bool operator==(const PreflightThresholds&, const PreflightThresholds&) = default;
};

// Where pip looks for a python service's requirements (service.yaml `pip:`).
struct PipConfig {
  struct FindLinks {
    std::string text;           // as written: an http(s) URL or the name of a dir of the service
    std::filesystem::path dir;  // <service dir>/<name>, a dir (not a link); empty for a URL
  };
  std::string index_url;              // empty: pip's own default index
  std::vector<FindLinks> find_links;  // at most kMaxFindLinks
  bool no_index = false;              // findLinks only
  static constexpr std::size_t kMaxFindLinks = 8;
};

struct ServiceConfig {
  std::filesystem::path dir;         // absolute, canonical service directory
  std::string name;
  RuntimeRef runtime;
  std::string entry;                 // as written in service.yaml (relative)
  std::filesystem::path entry_path;  // canonical absolute path, guaranteed inside `dir`
  std::uint32_t memory_mb = 128;
  std::uint32_t timeout_ms = 30000;
  double cpu_limit = 1;
  bool network = false;
  bool install_scripts = false;      // run dependencies' lifecycle scripts at install (opt-in)
  std::vector<std::pair<std::string, std::string>> env;  // expanded, in file order
  std::vector<std::string> dependencies;  // declared, or detected (package.json; requirements.txt for python)
  bool dependencies_declared = false;     // true when service.yaml lists them
  std::string isolation;                  // "native" | "docker" | "microvm"; empty: the caller's default
  std::string image;                      // docker only: a local image instead of the runtime's
  std::string profile;                    // a runtime profile ("datascience" for python); empty: none
  PipConfig pip;                          // python only
  PreflightThresholds preflight;
};

// Looks up a variable of the caller's environment; injected so tests need no real environment.
using EnvLookup = std::function<std::optional<std::string>(std::string_view)>;
EnvLookup process_env();

// Reads `dir/service.yaml` (or .yml). Errors are invalid_argument with a message of the form
// "<file>:<line>: <key>: <problem>[ (did you mean '<x>'?)]".
Result<ServiceConfig> load_service(const std::filesystem::path& dir, const EnvLookup& env);

// Parses YAML text as if read from `file` in service directory `dir` (which must exist for the
// entry checks). Same errors as load_service.
Result<ServiceConfig> parse_service(std::string_view yaml_text, const std::filesystem::path& file,
                                    const std::filesystem::path& dir, const EnvLookup& env);

bool valid_service_name(std::string_view name);
bool valid_isolation(std::string_view name);
// A local image reference: lowercase repository path, optional :tag or @sha256:digest.
bool valid_image_name(std::string_view name);
bool valid_env_name(std::string_view name);                // ^[A-Za-z_][A-Za-z0-9_]*$            // ^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$
Result<RuntimeRef> parse_runtime_ref(std::string_view text);  // "node@20"; unknown names fail
std::span<const std::string_view> known_runtimes();          // bun node deno quickjs python go

// Variables of this prefix belong to Ignite (IGNITE_API_KEY, IGNITE_RUNTIME_STORE, IGNITE_INPUT):
// expansion refuses them, so a service can never read the server's secrets.
inline constexpr std::string_view kReservedEnvPrefix = "IGNITE_";
// The most one expanded value may hold: the kernel's limit for one "NAME=value" string.
inline constexpr std::size_t kMaxExpandedBytes = 128 * 1024;

// Expands ${VAR} and ${VAR:-default}. Fails naming VAR when it is missing without a default or
// starts with IGNITE_ (see kReservedEnvPrefix), and when the result exceeds kMaxExpandedBytes.
Result<std::string> expand_env(std::string_view value, const EnvLookup& env);

// The candidate closest to `word` by edit distance, or "" when none is close enough.
std::string suggest(std::string_view word, std::span<const std::string_view> candidates);

}  // namespace ignite::config
