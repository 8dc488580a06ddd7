// Service preflight (CONTRACT §3): memory, timeout, image size and dependency checks before a run.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/service_config.hpp"

namespace ignite::preflight {

enum class CheckStatus { pass, warn, fail };
std::string_view to_string(CheckStatus s) noexcept;  // "pass" | "warn" | "fail"

struct CheckResult {
  std::string name;  // "Memory", "Timeout", "Image Size", "Dependency"
  CheckStatus status = CheckStatus::pass;
  std::string message;   // one line, e.g. "64MB allocated, 32MB estimated"
  double value = 0;      // the measured/configured quantity
  double threshold = 0;  // what it was compared against
  std::string unit;      // "MB", "ms", "count"
  std::vector<std::pair<std::string, std::string>> facts;  // ("Allocated", "64MB"), for text output
};

struct ServiceReport {
  CheckStatus overall = CheckStatus::pass;  // fail if any fails, else warn if any warns
  std::vector<CheckResult> checks;
};

// What preflight needs to know about the resolved runtime (no I/O inside the checks).
struct RuntimeFacts {
  std::string name;                 // "bun"
  std::string version;              // "1.3.4"
  std::uint64_t install_bytes = 0;  // runtime on disk
  // The size of the runtime's image when the service runs in one (docker isolation): what the
  // image size check measures then instead of install_bytes.
  std::optional<std::uint64_t> image_bytes;
  double baseline_mb = 30;          // memory a trivial program needs
};

// Facts about the service directory gathered from disk (sizes, package.json, lockfiles).
struct ServiceFacts {
  std::uint64_t service_bytes = 0;           // service dir without node_modules
  std::uint64_t dependency_bytes = 0;        // node_modules, if present
  std::vector<std::string> dependencies;     // names
  std::vector<std::string> install_scripts;  // packages in node_modules with (pre|post)install
  bool lockfile_present = false;
  bool package_json_dependencies = false;  // package.json declares "dependencies"
};

// Thresholds of the timeout and image size checks (the memory ones come from service.yaml).
inline constexpr std::uint32_t kMinTimeoutMs = 100;
inline constexpr std::uint32_t kMaxRecommendedTimeoutMs = 300000;
inline constexpr std::uint64_t kImageWarnBytes = 500ull << 20;
inline constexpr std::uint64_t kImageFailBytes = 2ull << 30;
inline constexpr std::size_t kMaxRecommendedDependencies = 100;

// Lockfile names recognised in a service directory: package-lock.json, bun.lockb, bun.lock,
// yarn.lock, pnpm-lock.yaml, deno.lock.
std::span<const std::string_view> lockfile_names() noexcept;

// Reads the service directory. Never fails: unreadable parts count as zero.
ServiceFacts gather_service_facts(const config::ServiceConfig& service);

// Pure: applies the checks to the config and the facts.
ServiceReport check_service(const config::ServiceConfig& service, const RuntimeFacts& runtime,
                            const ServiceFacts& facts);

// CONTRACT §3 text form, starting "[preflight] Analyzing service: <name>".
std::string render_text(const ServiceReport& report, std::string_view service_name);

}  // namespace ignite::preflight
