// The installer's pure parts (version picking, tarball layout) and the store commit; the steps
// that talk to npm, tar and make are in installer_steps.cpp.
#include "runtime/installer.hpp"
#include "core/json_limits.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>

#include <nlohmann/json.hpp>

namespace ignite::runtime {
namespace {

namespace fs = std::filesystem;

// "1.4.0-canary.1" -> core {1,4,0}, pre "canary.1". Build metadata (+...) is ignored.
struct SemVer {
  std::vector<long> core;
  std::string pre;
  bool ok = false;
};

SemVer parse_semver(std::string_view v) {
  SemVer s;
  const std::size_t plus = v.find('+');
  if (plus != std::string_view::npos) v = v.substr(0, plus);
  const std::size_t dash = v.find('-');
  if (dash != std::string_view::npos) {
    s.pre = std::string(v.substr(dash + 1));
    v = v.substr(0, dash);
  }
  long part = 0;
  bool digits = false;
  for (char c : v) {
    if (std::isdigit(static_cast<unsigned char>(c)) != 0) {
      part = part * 10 + (c - '0');
      digits = true;
      if (part > 1000000000L) return s;  // not a version anyone publishes
    } else if (c == '.' && digits) {
      s.core.push_back(part);
      part = 0;
      digits = false;
    } else {
      return s;
    }
  }
  if (!digits) return s;
  s.core.push_back(part);
  s.ok = true;
  return s;
}

// Release > its pre-releases; pre-releases compare as text (good enough to pick the newest).
bool semver_less(const SemVer& a, const SemVer& b) {
  if (a.core != b.core) return a.core < b.core;
  if (a.pre.empty() != b.pre.empty()) return !a.pre.empty();
  return a.pre < b.pre;
}

bool matches_prefix(std::string_view version, const SemVer& v, std::string_view prefix) {
  if (prefix.empty()) return v.pre.empty();
  if (version == prefix) return true;
  if (!v.pre.empty()) return false;
  return version.size() > prefix.size() && version.substr(0, prefix.size()) == prefix &&
         version[prefix.size()] == '.';
}

}  // namespace

Result<std::vector<std::string>> parse_npm_versions(std::string_view json) {
  try {
    auto parsed = parse_json_bounded(json);  // a registry's answer: bounded like any input
    if (!parsed) return fail(ErrorCode::internal, "npm's version list is " + parsed.error().message);
    const auto j = std::move(*parsed);
    if (j.is_string()) return std::vector<std::string>{j.get<std::string>()};
    if (j.is_array()) {
      std::vector<std::string> out;
      for (const auto& v : j) {
        if (v.is_string()) out.push_back(v.get<std::string>());
      }
      return out;
    }
  } catch (const nlohmann::json::exception& e) {
    return fail(ErrorCode::internal, std::string("npm's version list is not JSON: ") + e.what());
  }
  return fail(ErrorCode::internal, "npm's version list is neither a string nor an array");
}

std::optional<std::string> newest_matching(const std::vector<std::string>& versions,
                                           std::string_view prefix) {
  std::optional<std::string> best;
  SemVer best_v;
  for (const auto& version : versions) {
    const SemVer v = parse_semver(version);
    if (!v.ok || !matches_prefix(version, v, prefix)) continue;
    if (!best || semver_less(best_v, v)) {
      best = version;
      best_v = v;
    }
  }
  return best;
}

std::string quickjs_store_version(std::string_view version_file) {
  while (!version_file.empty() && std::isspace(static_cast<unsigned char>(version_file.back())) != 0)
    version_file.remove_suffix(1);
  std::string out(version_file);
  std::replace(out.begin(), out.end(), '-', '.');
  const SemVer v = parse_semver(out);
  return v.ok && v.pre.empty() && v.core.size() == 3 ? out : "";
}

bool cpu_has_avx2(std::string_view cpuinfo) {
  std::size_t pos = 0;
  while ((pos = cpuinfo.find("avx2", pos)) != std::string_view::npos) {
    const bool start = pos == 0 || std::isspace(static_cast<unsigned char>(cpuinfo[pos - 1])) != 0;
    const std::size_t end = pos + 4;
    const bool stop = end == cpuinfo.size() || std::isspace(static_cast<unsigned char>(cpuinfo[end])) != 0;
    if (start && stop) return true;
    pos = end;
  }
  return false;
}

Result<fs::path> find_one_dir(const fs::path& root, std::string_view pattern) {
  const fs::path pat(pattern);
  const std::string last = pat.filename().string();
  const std::size_t star = last.find('*');
  const fs::path parent = root / pat.parent_path();
  if (star == std::string::npos) {
    if (fs::is_directory(parent / last)) return parent / last;
    return fail(ErrorCode::internal, "the package has no " + std::string(pattern));
  }
  const std::string head = last.substr(0, star);
  const std::string tail = last.substr(star + 1);
  std::vector<fs::path> found;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(parent, ec)) {
    const std::string n = e.path().filename().string();
    if (n.size() >= head.size() + tail.size() && n.compare(0, head.size(), head) == 0 &&
        n.compare(n.size() - tail.size(), tail.size(), tail) == 0 && e.is_directory(ec)) {
      found.push_back(e.path());
    }
  }
  if (found.size() == 1) return found.front();
  return fail(ErrorCode::internal, "the package has " + std::to_string(found.size()) +
                                       " directories matching " + std::string(pattern) +
                                       " (expected exactly one)");
}

Status stage_file(const fs::path& from, const fs::path& stage, const fs::path& relative,
                  bool executable) {
  constexpr fs::perms kDir = fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                             fs::perms::others_read | fs::perms::others_exec;
  constexpr fs::perms kData = fs::perms::owner_read | fs::perms::owner_write |
                              fs::perms::group_read | fs::perms::others_read;
  std::error_code ec;
  if (!fs::is_regular_file(from, ec))
    return fail(ErrorCode::internal, "the package has no file " + from.filename().string());
  // Security: the sandbox's unprivileged uid reads the store through a bind mount, so every
  // directory on the way must be world-readable (mkdtemp made the stage 0700).
  fs::path dir = stage;
  fs::create_directories(stage / relative.parent_path(), ec);
  if (ec) return fail(Error::from_errno("create " + (stage / relative.parent_path()).string(), ec.value()));
  fs::permissions(dir, kDir, ec);
  for (const auto& part : relative.parent_path()) {
    dir /= part;
    fs::permissions(dir, kDir, ec);
  }
  const fs::path to = stage / relative;
  fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
  if (ec) return fail(Error::from_errno("copy " + from.string() + " to " + to.string(), ec.value()));
  fs::permissions(to, executable ? kDir : kData, ec);
  if (ec) return fail(Error::from_errno("chmod " + to.string(), ec.value()));
  return ok();
}

Status commit_staged(const fs::path& stage, const fs::path& dest,
                     const std::function<bool(const fs::path&)>& dest_is_valid) {
  std::error_code ec;
  fs::create_directories(dest.parent_path(), ec);
  if (ec) return fail(Error::from_errno("create " + dest.parent_path().string(), ec.value()));
  if (fs::exists(dest, ec)) {
    if (dest_is_valid(dest)) return ok();  // a concurrent install finished first
    fs::remove_all(dest, ec);              // the remains of an interrupted or broken install
    if (ec) return fail(Error::from_errno("remove " + dest.string(), ec.value()));
  }
  fs::rename(stage, dest, ec);
  if (ec) {
    if (dest_is_valid(dest)) return ok();
    return fail(Error::from_errno("rename " + stage.string() + " to " + dest.string(), ec.value()));
  }
  return ok();
}

std::string_view quickjs_bootstrap() {
  static constexpr std::string_view kText =
#include "quickjs_bootstrap.inc"
      ;
  return kText;
}

}  // namespace ignite::runtime
