// Dependency auto-detection from package.json, used when service.yaml lists none.
#include <algorithm>
#include <nlohmann/json.hpp>
#include <system_error>

#include "config/service_files.hpp"
#include "core/json_limits.hpp"

namespace ignite::config::detail {

namespace fs = std::filesystem;

namespace {

constexpr std::uintmax_t kMaxPackageJsonBytes = 4u << 20;

}  // namespace

Result<std::vector<std::string>> detect_dependencies(const fs::path& dir) {
  const fs::path file = dir / "package.json";
  std::error_code ec;
  const fs::file_status link_status = fs::symlink_status(file, ec);
  if (!fs::exists(link_status)) return std::vector<std::string>{};
  auto bad = [&](std::string problem) {
    return fail(ErrorCode::invalid_argument, file.string() + ": " + std::move(problem));
  };
  // Same rule as the entry: what the service dir declares must come from the service dir.
  const fs::path resolved = fs::canonical(file, ec);
  if (ec) return bad("cannot resolve: " + ec.message());
  if (!path_within(dir, resolved)) return bad("resolves outside the service directory");

  IGNITE_TRY_ASSIGN(const std::string text, read_small_file(resolved, kMaxPackageJsonBytes));
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
