// ${VAR} and ${VAR:-default} expansion of service.yaml env values.
#include <algorithm>
#include <cstdlib>
#include <string_view>

#include "config/service_config.hpp"

namespace ignite::config {

bool valid_env_name(std::string_view name) {
  if (name.empty()) return false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    const bool alpha = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
    if (!alpha && (i == 0 || c < '0' || c > '9')) return false;
  }
  return true;
}

EnvLookup process_env() {
  return [](std::string_view name) -> std::optional<std::string> {
    // getenv needs a NUL-terminated name; a name with an embedded NUL cannot exist.
    const std::string key(name);
    if (key.find('\0') != std::string::npos) return std::nullopt;
    const char* value = std::getenv(key.c_str());  // NOLINT(concurrency-mt-unsafe): read-only use
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

Result<std::string> expand_env(std::string_view value, const EnvLookup& env) {
  // Only "${" is special: a lone '$' is literal, so values like "pa$$word" or "$5" pass
  // through unchanged. There is deliberately no escape syntax.
  const auto too_long = [] {
    return fail(ErrorCode::invalid_argument,
                "expands to more than " + std::to_string(kMaxExpandedBytes) +
                    " bytes (the kernel's limit for one environment variable)");
  };
  std::string out;
  out.reserve(std::min(value.size(), kMaxExpandedBytes));
  std::size_t pos = 0;
  while (pos < value.size()) {
    const std::size_t start = value.find("${", pos);
    if (start == std::string_view::npos) {
      out.append(value.substr(pos));
      break;
    }
    out.append(value.substr(pos, start - pos));
    const std::size_t close = value.find('}', start + 2);
    if (close == std::string_view::npos) {
      return fail(ErrorCode::invalid_argument,
                  "unterminated '${' in '" + std::string(value) + "' (missing '}')");
    }
    const std::string_view body = value.substr(start + 2, close - start - 2);
    const std::size_t sep = body.find(":-");
    const std::string_view name = body.substr(0, sep);
    if (!valid_env_name(name)) {
      return fail(ErrorCode::invalid_argument, "invalid variable name '" + std::string(name) +
                                                   "' in '${" + std::string(body) +
                                                   "}' (expected letters, digits and '_')");
    }
    // Security: a service directory is the tenant's, the server's environment is the
    // operator's. IGNITE_* holds Ignite's own settings and secrets (IGNITE_API_KEY), so no
    // service may read one, whatever the lookup; not even with a default, which would make a
    // typo'd secret silently fall back.
    if (name.starts_with(kReservedEnvPrefix)) {
      return fail(ErrorCode::invalid_argument,
                  "${" + std::string(name) + "}: IGNITE_* variables are Ignite's own and cannot be "
                  "expanded");
    }
    std::optional<std::string> found = env ? env(name) : std::nullopt;
    if (sep != std::string_view::npos) {
      // Shell semantics: ":-" also replaces a variable that is set but empty.
      if (!found || found->empty()) found = std::string(body.substr(sep + 2));
    } else if (!found) {
      return fail(ErrorCode::invalid_argument, "environment variable " + std::string(name) +
                                                   " is not set (use ${" + std::string(name) +
                                                   ":-default} for a default)");
    }
    out += *found;
    // Bounded: a 1 MiB file of "${BIG}" would otherwise expand to gigabytes.
    if (out.size() > kMaxExpandedBytes) return too_long();
    pos = close + 1;
  }
  if (out.size() > kMaxExpandedBytes) return too_long();
  return out;
}

}  // namespace ignite::config
