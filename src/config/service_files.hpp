// Filesystem checks behind service.yaml: path containment, the entry file, bounded reads and
// package.json and requirements.txt dependency detection. Private to src/config.
#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace ignite::config::detail {

// True when `path` is `base` or below it, compared component by component (so "/srv/app2" is
// not inside "/srv/app"). Both must already be canonical.
bool path_within(const std::filesystem::path& base, const std::filesystem::path& path);

// Resolves `entry` (relative, as written in service.yaml) against canonical `dir`. The result is
// canonical, inside `dir` even through symlinks, and a regular file. Errors carry only the
// problem ("must be a relative path, got '/x'"); the caller adds file, line and key.
Result<std::filesystem::path> resolve_entry(const std::filesystem::path& dir,
                                            std::string_view entry);

// Reads a regular file of at most `max_bytes`. Never blocks on a FIFO or device.
Result<std::string> read_small_file(const std::filesystem::path& path, std::uintmax_t max_bytes);

// dir/<name> when it exists: resolved inside `dir` (a link out is refused) and read as a
// regular file of at most `max_bytes`; nullopt when there is no such file.
Result<std::optional<std::string>> read_service_file(const std::filesystem::path& dir, std::string_view name,
                                                     std::uintmax_t max_bytes);

// The keys of "dependencies" in dir/package.json, sorted; empty when there is no package.json.
// A malformed file is an invalid_argument error naming it.
Result<std::vector<std::string>> detect_dependencies(const std::filesystem::path& dir);

// The requirements of dir/requirements.txt (a python service's), sorted and unique: each
// line's project name, or the whole requirement when it names none (a URL, a path); option
// lines (-r, -e, --index-url ...) are pip's business, not listed. Empty when there is no file.
Result<std::vector<std::string>> detect_requirements(const std::filesystem::path& dir);

}  // namespace ignite::config::detail
