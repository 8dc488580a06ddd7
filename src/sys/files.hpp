// Small file helpers returning errors as values (for kernel interface files and configs).
#pragma once
#include <cstdint>
#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace ignite::sys {

Result<std::string> read_file(const std::filesystem::path& path);   // whole file
// The whole file if it holds at most `max_bytes`; anything larger (or endless: /dev/zero, a
// pipe that never closes) fails with invalid_argument "<path>: larger than N bytes" after
// reading at most max_bytes + 1 bytes. Pipes and devices are fine (`--stdin @/dev/stdin`).
Result<std::string> read_file(const std::filesystem::path& path, std::uint64_t max_bytes);
// For files a hostile party may have planted (a service dir's): a symlink in the last component
// is refused (ELOOP), and so is anything but a regular file (invalid_argument).
Result<std::string> read_plain_file(const std::filesystem::path& path, std::uint64_t max_bytes);
Status write_file(const std::filesystem::path& path, std::string_view data);  // O_WRONLY, no create
Status write_new_file(const std::filesystem::path& path, std::string_view data, int mode = 0644);
// Whether `path` (not followed if a link) was last modified more than `age` ago; false if it
// cannot be stat'ed.
bool older_than(const std::filesystem::path& path, std::chrono::seconds age);
// Whether `path` still names the file `fd` was opened from: not unlinked and replaced, and not
// covered by a mount since. False if either cannot be stat'ed.
bool still_named(int fd, const std::filesystem::path& path);
Result<std::uint64_t> read_u64(const std::filesystem::path& path);  // first number in the file

}  // namespace ignite::sys
