// Dependency auto-detection from package.json, used when service.yaml lists none.
#include <algorithm>
#include <optional>
#include <nlohmann/json.hpp>
#include <system_error>

#include "config/service_files.hpp"
#include "core/json_limits.hpp"

namespace ignite::config::detail {

namespace fs = std::filesystem;

namespace {

constexpr std::uintmax_t kMaxPackageJsonBytes = 4u << 20;

}  // namespace

Result<std::optional<std::string>> read_service_file(const fs::path& dir, std::string_view name,
                                                     std::uintmax_t max_bytes) {
  const fs::path file = dir / name;
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(file, ec))) return std::optional<std::string>{};
  // Same rule as the entry: what the service dir declares must come from the service dir.
  const fs::path resolved = fs::canonical(file, ec);
  if (ec) return fail(ErrorCode::invalid_argument, file.string() + ": cannot resolve: " + ec.message());
  if (!path_within(dir, resolved))
    return fail(ErrorCode::invalid_argument, file.string() + ": resolves outside the service directory");
  IGNITE_TRY_ASSIGN(std::string text, read_small_file(resolved, max_bytes));
  return std::optional<std::string>{std::move(text)};
}

Result<std::vector<std::string>> detect_dependencies(const fs::path& dir) {
  const fs::path file = dir / "package.json";
  auto bad = [&](std::string problem) {
    return fail(ErrorCode::invalid_argument, file.string() + ": " + std::move(problem));
  };
  IGNITE_TRY_ASSIGN(const std::optional<std::string> read, read_service_file(dir, "package.json", kMaxPackageJsonBytes));
  if (!read) return std::vector<std::string>{};
  const std::string& text = *read;
  // Security: a service directory is hostile: bounded depth (core/json_limits.hpp).
  auto parsed = parse_json_bounded(text);
  if (!parsed) return bad(parsed.error().message);
  const nlohmann::json doc = std::move(*parsed);
  if (!doc.is_object()) return bad(std::string("expected a JSON object, got ") + doc.type_name());
  const auto deps = doc.find("dependencies");
  std::vector<std::string> names;
  if (deps == doc.end() || deps->is_null()) return names;
  if (!deps->is_object()) {
    return bad(std::string("\"dependencies\" must be an object, got ") + deps->type_name());
  }
  for (const auto& item : deps->items()) names.push_back(item.key());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace ignite::config::detail
