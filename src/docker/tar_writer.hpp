// TarWriter: an in-memory ustar archive, the build context of `POST /build` (a Dockerfile and
// the files it copies), so building an image needs no temp dir and no `tar` process. Larger
// contexts (runtime images) are streamed from the same headers (tar_header) by their owner.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace ignite::docker {

inline constexpr std::size_t kTarBlock = 512;

enum class TarType : char { file = '0', symlink = '2', directory = '5' };

// The 512-byte ustar header of one entry: `path` relative, '/'-separated, no "." or ".." parts
// (a directory's trailing '/' is added here), permission bits `mode & 07777`, owner root,
// `mtime` in seconds (a runtime's files keep theirs: Python checks its cached bytecode against
// the source's mtime); `size` bytes of content follow (files only), padded to a block
// (tar_padding); `link` is a symlink's target text (at most 100 bytes). Fails with
// invalid_argument naming the entry when it cannot be written as ustar.
Result<std::string> tar_header(std::string_view path, TarType type, std::uint64_t size, unsigned mode,
                               std::string_view link = {}, std::uint64_t mtime = 0);
// Zero bytes after `size` bytes of content, up to the next block.
constexpr std::size_t tar_padding(std::uint64_t size) {
  return static_cast<std::size_t>((kTarBlock - size % kTarBlock) % kTarBlock);
}
inline constexpr std::size_t kTarTrailer = 2 * kTarBlock;  // two zero blocks end an archive

class TarWriter {
 public:
  // A regular file at `path` (relative, '/'-separated, no "." or ".." parts) with permission
  // bits `mode` (e.g. 0755). Owner root, mtime 0: the same inputs give the same bytes, so the
  // daemon's build cache can match them.
  Status add_file(std::string_view path, std::string_view content, unsigned mode = 0644);
  Status add_directory(std::string_view path, unsigned mode = 0755);
  // A symlink whose target text is `link` (stored as is: the daemon resolves it in the image).
  Status add_symlink(std::string_view path, std::string_view link);
  // The archive with its end-of-archive marker; the writer is empty afterwards.
  std::string finish();

 private:
  Status add_entry(std::string_view path, TarType type, std::string_view content, unsigned mode,
                   std::string_view link = {});
  std::string out_;
};

}  // namespace ignite::docker
