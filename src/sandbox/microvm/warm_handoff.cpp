#include "sandbox/microvm/warm_handoff.hpp"

#include <algorithm>
#include <cstdint>

#include "sys/files.hpp"

namespace ignite::sandbox::microvm {
namespace {

namespace fs = std::filesystem;

// What a handoff frame may carry: base64 takes 4 bytes for 3, and the frame has its JSON around.
constexpr std::uint64_t kMaxHandOffBytes = (guest::kMaxFrameBytes - (1u << 20)) / 4 * 3;

}  // namespace

std::string guest_drop_dir(std::size_t index) { return std::string(guest::kDropsRoot) + "/" + std::to_string(index); }

Result<std::vector<guest::HandOffEntry>> handoff_entries(const std::vector<fs::path>& drop_hosts) {
  std::vector<guest::HandOffEntry> entries;
  std::uint64_t bytes = 0;
  for (std::size_t i = 0; i < drop_hosts.size(); ++i) {
    std::error_code ec;
    std::vector<fs::path> found;  // sorted, so the frame is the same bytes for the same files
    for (auto it = fs::recursive_directory_iterator(drop_hosts[i], ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec))
      found.push_back(it->path());
    if (ec) return fail(ErrorCode::internal, "microvm: cannot list the job's files: " + ec.message());
    // Path order puts a dir before everything under it.
    std::sort(found.begin(), found.end());
    for (const auto& path : found) {
      guest::HandOffEntry e;
      e.path = guest_drop_dir(i) + "/" + path.lexically_relative(drop_hosts[i]).string();
      const fs::file_status st = fs::symlink_status(path, ec);
      if (ec) return fail(ErrorCode::internal, "microvm: cannot stat " + path.string() + ": " + ec.message());
      if (fs::is_directory(st)) {
        e.dir = true;
      } else if (fs::is_regular_file(st)) {
        e.executable = (st.permissions() & fs::perms::owner_exec) != fs::perms::none;
        bytes += fs::file_size(path, ec);
        if (bytes > kMaxHandOffBytes)
          return fail(ErrorCode::unavailable, "microvm: the job's files are more than a hand-off carries");
        IGNITE_TRY_ASSIGN(e.data, sys::read_plain_file(path, kMaxHandOffBytes));
      } else {
        return fail(ErrorCode::invalid_argument, "microvm: a job file that is neither a file nor a dir: " +
                                                     path.lexically_relative(drop_hosts[i]).string());
      }
      entries.push_back(std::move(e));
    }
  }
  return entries;
}

}  // namespace ignite::sandbox::microvm
