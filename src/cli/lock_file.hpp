// ignite.lock: content hashes of a service's manifest and lockfiles, to detect dependency drift.
#pragma once
#include <filesystem>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace ignite::cli {

inline constexpr std::string_view kLockFileName = "ignite.lock";

// File name (relative to the service dir) -> "sha256:<64 hex digits>".
using LockMap = std::map<std::string, std::string>;

// Returns the "sha256:<hex>" digest of a file; injected so the logic is testable without OpenSSL.
using FileHasher = std::function<Result<std::string>(const std::filesystem::path&)>;

// The files a lock covers when present: service.yaml/.yml, package.json and every lockfile name
// preflight knows.
std::vector<std::string> lockable_files();

// Hashes every lockable file present in `dir`. A symlink among them is an invalid_argument
// error (we pin what the directory contains, not what it points at); hasher errors propagate.
Result<LockMap> compute_lock(const std::filesystem::path& dir, const FileHasher& hash);

// {"version":1,"files":{...}}, pretty-printed, with a trailing newline.
std::string render_lock(const LockMap& files);

// Parses ignite.lock text; invalid_argument (the problem only, the caller names the file) on
// malformed JSON, another version, or bad entries.
Result<LockMap> parse_lock(std::string_view text);

struct LockDrift {
  std::vector<std::string> changed;  // recorded and present, different digest
  std::vector<std::string> added;    // present now, not recorded
  std::vector<std::string> removed;  // recorded, gone now
  bool empty() const { return changed.empty() && added.empty() && removed.empty(); }
};

LockDrift diff_lock(const LockMap& recorded, const LockMap& current);

// "drift: package.json changed, bun.lock added, yarn.lock removed" (empty when no drift).
std::string describe(const LockDrift& drift);

}  // namespace ignite::cli
