#include "cli/lock_file.hpp"
#include "core/json_limits.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <system_error>

#include "preflight/service_checks.hpp"

namespace ignite::cli {
namespace {

namespace fs = std::filesystem;

constexpr int kLockVersion = 1;
constexpr std::string_view kDigestPrefix = "sha256:";

bool valid_digest(std::string_view digest) {
  if (!digest.starts_with(kDigestPrefix)) return false;
  digest.remove_prefix(kDigestPrefix.size());
  return digest.size() == 64 && std::all_of(digest.begin(), digest.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

}  // namespace

std::vector<std::string> lockable_files() {
  std::vector<std::string> names = {"service.yaml", "service.yml", "package.json"};
  for (std::string_view lockfile : preflight::lockfile_names()) names.emplace_back(lockfile);
  return names;
}

Result<LockMap> compute_lock(const fs::path& dir, const FileHasher& hash) {
  LockMap files;
  for (const std::string& name : lockable_files()) {
    const fs::path path = dir / name;
    std::error_code ec;
    const fs::file_status st = fs::symlink_status(path, ec);
    if (!fs::exists(st)) continue;
    if (!fs::is_regular_file(st)) {
      return fail(ErrorCode::invalid_argument,
                  path.string() + ": not a regular file (symlinks are not locked)");
    }
    IGNITE_TRY_ASSIGN(std::string digest, hash(path));
    files.emplace(name, std::move(digest));
  }
  return files;
}

std::string render_lock(const LockMap& files) {
  const nlohmann::json doc = {{"version", kLockVersion}, {"files", files}};
  return doc.dump(2) + "\n";
}

Result<LockMap> parse_lock(std::string_view text) {
  auto bad = [](std::string problem) {
    return fail(ErrorCode::invalid_argument, std::move(problem));
  };
  // Security: ignite.lock sits in the service directory, which is hostile: bounded depth.
  auto parsed = parse_json_bounded(text);
  if (!parsed || !parsed->is_object()) return bad("not a JSON object");
  const nlohmann::json doc = std::move(*parsed);
  const auto version = doc.find("version");
  if (version == doc.end() || !version->is_number_integer() ||
      version->get<int>() != kLockVersion) {
    return bad("unsupported version (expected 1)");
  }
  const auto files = doc.find("files");
  if (files == doc.end() || !files->is_object()) return bad("\"files\" must be an object");
  LockMap out;
  for (const auto& item : files->items()) {
    if (!item.value().is_string() || !valid_digest(item.value().get_ref<const std::string&>())) {
      return bad("\"" + item.key() + "\": expected \"sha256:<64 hex digits>\"");
    }
    out.emplace(item.key(), item.value().get<std::string>());
  }
  return out;
}

LockDrift diff_lock(const LockMap& recorded, const LockMap& current) {
  LockDrift drift;
  for (const auto& [name, digest] : recorded) {
    const auto now = current.find(name);
    if (now == current.end()) {
      drift.removed.push_back(name);
    } else if (now->second != digest) {
      drift.changed.push_back(name);
    }
  }
  for (const auto& [name, digest] : current) {
    if (!recorded.contains(name)) drift.added.push_back(name);
  }
  return drift;
}

std::string describe(const LockDrift& drift) {
  if (drift.empty()) return {};
  std::string out = "drift:";
  const char* sep = " ";
  auto list = [&](const std::vector<std::string>& names, std::string_view what) {
    for (const std::string& name : names) {
      out += sep + name + " " + std::string(what);
      sep = ", ";
    }
  };
  list(drift.changed, "changed");
  list(drift.added, "added");
  list(drift.removed, "removed");
  return out;
}

}  // namespace ignite::cli
