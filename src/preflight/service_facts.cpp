// Reads what preflight needs from a service directory: sizes, dependencies, lockfiles, scripts.
//
// Security: the directory is untrusted. Nothing here follows a symlink (a link to / would make
// the size walk read the whole host, a link to a secret would feed it into the report), and
// every read is bounded.
#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <system_error>

#include "preflight/service_checks.hpp"
#include "core/json_limits.hpp"

namespace ignite::preflight {
namespace {

namespace fs = std::filesystem;

constexpr std::array<std::string_view, 6> kLockfiles = {
    "package-lock.json", "bun.lockb", "bun.lock", "yarn.lock", "pnpm-lock.yaml", "deno.lock"};

// Bigger package.json files are not real manifests; refuse them rather than read them whole.
constexpr std::uintmax_t kMaxManifestBytes = 4u << 20;

bool is_symlink_or_missing(const fs::path& p) {
  std::error_code ec;
  const fs::file_status st = fs::symlink_status(p, ec);
  return ec || fs::is_symlink(st) || !fs::exists(st);
}

// Sum of regular file sizes under `root`, without following symlinks. A top-level directory
// named `skip_top` is not descended into (node_modules is measured on its own).
std::uint64_t tree_bytes(const fs::path& root, std::string_view skip_top = {}) {
  std::uint64_t total = 0;
  std::error_code ec;
  // The iterator does not follow directory symlinks without follow_directory_symlink.
  fs::recursive_directory_iterator it(root, fs::directory_options::skip_permission_denied, ec);
  for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code entry_ec;
    const fs::file_status st = it->symlink_status(entry_ec);
    if (entry_ec || fs::is_symlink(st)) continue;
    if (fs::is_directory(st)) {
      if (it.depth() == 0 && !skip_top.empty() && it->path().filename() == skip_top) {
        it.disable_recursion_pending();
      }
    } else if (fs::is_regular_file(st)) {
      const std::uintmax_t size = it->file_size(entry_ec);
      if (!entry_ec) total += size;
    }
  }
  return total;
}

// The parsed JSON file at `path`, or nullopt if it is a symlink, too big, unreadable or invalid.
std::optional<nlohmann::json> read_manifest(const fs::path& path) {
  std::error_code ec;
  const fs::file_status st = fs::symlink_status(path, ec);
  if (ec || !fs::is_regular_file(st)) return std::nullopt;
  const std::uintmax_t size = fs::file_size(path, ec);
  if (ec || size > kMaxManifestBytes) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  std::string text(static_cast<std::size_t>(size), '\0');
  if (!in.read(text.data(), static_cast<std::streamsize>(size))) return std::nullopt;
  // Security: a service directory is hostile: bounded depth (core/json_limits.hpp).
  auto doc = parse_json_bounded(text);
  if (!doc || !doc->is_object()) return std::nullopt;
  return std::move(*doc);
}

std::vector<std::string> manifest_dependencies(const nlohmann::json& manifest) {
  std::vector<std::string> names;
  auto deps = manifest.find("dependencies");
  if (deps == manifest.end() || !deps->is_object()) return names;
  for (const auto& item : deps->items()) names.push_back(item.key());
  return names;
}

bool has_install_script(const nlohmann::json& manifest) {
  auto scripts = manifest.find("scripts");
  if (scripts == manifest.end() || !scripts->is_object()) return false;
  return scripts->contains("preinstall") || scripts->contains("install") ||
         scripts->contains("postinstall");
}

// Real (non-symlinked) subdirectories of `dir`, skipping dot entries such as node_modules/.bin.
std::vector<fs::path> package_dirs(const fs::path& dir) {
  std::vector<fs::path> out;
  std::error_code ec;
  fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    std::error_code entry_ec;
    const fs::file_status st = it->symlink_status(entry_ec);
    if (entry_ec || !fs::is_directory(st)) continue;  // a symlink is never a directory here
    if (it->path().filename().string().starts_with('.')) continue;
    out.push_back(it->path());
  }
  return out;
}

// Packages in node_modules (and node_modules/@scope) whose manifest has install scripts.
std::vector<std::string> packages_with_install_scripts(const fs::path& node_modules) {
  std::vector<std::string> found;
  auto inspect = [&found](const fs::path& pkg, const std::string& name) {
    if (auto manifest = read_manifest(pkg / "package.json");
        manifest && has_install_script(*manifest)) {
      found.push_back(name);
    }
  };
  for (const fs::path& entry : package_dirs(node_modules)) {
    const std::string name = entry.filename().string();
    if (name.starts_with('@')) {
      for (const fs::path& scoped : package_dirs(entry)) {
        inspect(scoped, name + "/" + scoped.filename().string());
      }
    } else {
      inspect(entry, name);
    }
  }
  std::sort(found.begin(), found.end());
  return found;
}

}  // namespace

std::span<const std::string_view> lockfile_names() noexcept { return kLockfiles; }

ServiceFacts gather_service_facts(const config::ServiceConfig& service) {
  ServiceFacts facts;
  const fs::path& dir = service.dir;
  facts.service_bytes = tree_bytes(dir, "node_modules");

  const fs::path node_modules = dir / "node_modules";
  if (!is_symlink_or_missing(node_modules)) {
    facts.dependency_bytes = tree_bytes(node_modules);
    facts.install_scripts = packages_with_install_scripts(node_modules);
  }

  std::vector<std::string> manifest_deps;
  if (auto manifest = read_manifest(dir / "package.json")) {
    manifest_deps = manifest_dependencies(*manifest);
  }
  facts.package_json_dependencies = !manifest_deps.empty();
  // service.yaml wins when it lists dependencies; the loader may already have filled them in
  // from package.json, which is then the same list.
  facts.dependencies = service.dependencies_declared || !service.dependencies.empty()
                           ? service.dependencies
                           : std::move(manifest_deps);

  facts.lockfile_present = std::any_of(kLockfiles.begin(), kLockfiles.end(), [&](auto name) {
    std::error_code ec;
    return fs::exists(fs::symlink_status(dir / name, ec));
  });
  return facts;
}

}  // namespace ignite::preflight
