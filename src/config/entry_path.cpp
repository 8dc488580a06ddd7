// Resolving a service's entry file without letting it escape the service directory.
#include <algorithm>
#include <iterator>
#include <system_error>

#include "config/service_files.hpp"

namespace ignite::config::detail {

namespace fs = std::filesystem;

bool path_within(const fs::path& base, const fs::path& path) {
  // Iterating paths yields components, so "/srv/app" vs "/srv/app2" differ at "app" vs "app2"
  // instead of matching as a string prefix.
  auto b = base.begin();
  auto p = path.begin();
  for (; b != base.end(); ++b, ++p) {
    if (p == path.end() || *b != *p) {
      // A trailing separator on `base` shows up as an empty final component; ignore it.
      return b->empty() && std::next(b) == base.end();
    }
  }
  return true;
}

namespace {

// Where a path that does not fully exist points: weakly_canonical stops at a dangling link, so
// follow such links by hand (bounded, as the kernel does) to see where they aim.
fs::path follow_dangling(const fs::path& path) {
  constexpr int kMaxHops = 40;
  std::error_code ec;
  fs::path cur = fs::weakly_canonical(path, ec);
  if (ec) return path;
  for (int hop = 0; hop < kMaxHops && fs::is_symlink(fs::symlink_status(cur, ec)); ++hop) {
    const fs::path target = fs::read_symlink(cur, ec);
    if (ec) break;
    fs::path next = fs::weakly_canonical(cur.parent_path() / target, ec);
    if (ec) break;
    cur = std::move(next);
  }
  return cur;
}

}  // namespace

Result<fs::path> resolve_entry(const fs::path& dir, std::string_view entry) {
  auto bad = [](std::string problem) {
    return fail(ErrorCode::invalid_argument, std::move(problem));
  };
  const std::string shown(entry);
  if (entry.empty()) return bad("must not be empty");
  if (entry.find('\0') != std::string_view::npos) return bad("must not contain a NUL byte");
  const fs::path rel(shown);
  if (rel.is_absolute() || entry.front() == '/') {
    return bad("must be a relative path inside the service directory, got '" + shown + "'");
  }
  for (const fs::path& part : rel) {
    if (part == "..") return bad("must not contain '..', got '" + shown + "'");
  }

  const fs::path joined = dir / rel;
  std::error_code ec;
  const fs::file_status link_status = fs::symlink_status(joined, ec);
  if (ec && ec != std::errc::no_such_file_or_directory && ec != std::errc::not_a_directory) {
    return bad("cannot access '" + shown + "': " + ec.message());
  }
  const fs::path resolved = fs::canonical(joined, ec);
  if (ec) {
    // Resolve what does exist, so a dangling link aiming outside is reported as an escape,
    // not just as a missing file.
    if (!path_within(dir, follow_dangling(joined))) {
      return bad("'" + shown + "' resolves outside the service directory");
    }
    if (fs::is_symlink(link_status)) return bad("'" + shown + "' is a broken symlink");
    return bad("file '" + shown + "' does not exist in " + dir.string());
  }
  if (!path_within(dir, resolved)) {
    return bad("'" + shown + "' resolves outside the service directory (symlink escape)");
  }
  // This holds at load time only: a link in the directory can be changed afterwards, so the
  // sandbox must run the entry through its read-only /app mount, not by this host path.
  if (!fs::is_regular_file(fs::status(resolved, ec)) || ec) {
    return bad("'" + shown + "' is not a regular file");
  }
  return resolved;
}

}  // namespace ignite::config::detail
