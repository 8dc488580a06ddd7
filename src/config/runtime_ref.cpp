// Runtime references ("node@20") and service names: pure string checks, no I/O.
#include <array>

#include "config/service_config.hpp"

namespace ignite::config {
namespace {

constexpr std::array<std::string_view, 6> kRuntimes = {"bun",     "node",   "deno",
                                                       "quickjs", "python", "go"};

// Longer than any real version string; keeps hostile input out of paths and messages.
constexpr std::size_t kMaxVersionLength = 32;

bool is_lower_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// Digits separated by single dots: "20", "3.11", "1.3.4". No leading, trailing or double dot.
bool valid_version(std::string_view version) {
  if (version.empty() || version.size() > kMaxVersionLength) return false;
  bool after_digit = false;
  for (char c : version) {
    if (c >= '0' && c <= '9') {
      after_digit = true;
    } else if (c == '.' && after_digit) {
      after_digit = false;
    } else {
      return false;
    }
  }
  return after_digit;
}

std::string known_list() {
  std::string out;
  for (std::string_view r : kRuntimes) {
    if (!out.empty()) out += ", ";
    out += r;
  }
  return out;
}

}  // namespace

std::span<const std::string_view> known_runtimes() { return kRuntimes; }

bool valid_service_name(std::string_view name) {
  // ^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$ : usable as a DNS label, a cgroup and a directory name.
  if (name.empty() || name.size() > 63) return false;
  if (!is_lower_alnum(name.front()) || !is_lower_alnum(name.back())) return false;
  for (char c : name) {
    if (!is_lower_alnum(c) && c != '-') return false;
  }
  return true;
}

Result<RuntimeRef> parse_runtime_ref(std::string_view text) {
  const std::size_t at = text.find('@');
  const std::string_view name = text.substr(0, at);
  bool known = false;
  for (std::string_view r : kRuntimes) known = known || r == name;
  if (!known) {
    const std::string hint = suggest(name, kRuntimes);
    return fail(ErrorCode::invalid_argument,
                "unknown runtime '" + std::string(name) + "'" +
                    (hint.empty() ? " (expected one of: " + known_list() + ")"
                                  : " (did you mean '" + hint + "'?)"));
  }
  RuntimeRef ref;
  ref.name = std::string(name);
  if (at != std::string_view::npos) {
    const std::string_view version = text.substr(at + 1);
    if (!valid_version(version)) {
      return fail(ErrorCode::invalid_argument,
                  "invalid runtime version '" + std::string(version) + "' in '" +
                      std::string(text) +
                      "': expected digits and dots, e.g. node@20, bun@1.3, python@3.11");
    }
    ref.version = std::string(version);
  }
  return ref;
}

}  // namespace ignite::config
