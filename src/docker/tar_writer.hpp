// TarWriter: an in-memory ustar archive, the build context of `POST /build` (a Dockerfile and
// the files it copies), so building an image needs no temp dir and no `tar` process.
#pragma once
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace ignite::docker {

class TarWriter {
 public:
  // A regular file at `path` (relative, '/'-separated, no "." or ".." parts) with permission
  // bits `mode` (e.g. 0755). Owner root, mtime 0: the same inputs give the same bytes, so the
  // daemon's build cache can match them.
  Status add_file(std::string_view path, std::string_view content, unsigned mode = 0644);
  Status add_directory(std::string_view path, unsigned mode = 0755);
  // The archive with its end-of-archive marker; the writer is empty afterwards.
  std::string finish();

 private:
  Status add_entry(std::string_view path, char type, std::string_view content, unsigned mode);
  std::string out_;
};

}  // namespace ignite::docker
