// ImageContext: the build context of a runtime image — a Dockerfile (`FROM scratch`,
// `COPY rootfs/ /`) and every entry of an ImageContents under rootfs/ — as a stream: headers
// are made (and checked) up front, file contents are read from disk as the daemon takes them,
// so a context of hundreds of megabytes is never held in memory.
#pragma once
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "docker/image_contents.hpp"
#include "docker/unix_http.hpp"
#include "sys/fd.hpp"

namespace ignite::docker {

// The dir of the archive that holds the image's files (the Dockerfile copies it to /).
inline constexpr std::string_view kContextRoot = "rootfs";
inline constexpr std::string_view kRuntimeDockerfile = "FROM scratch\nCOPY rootfs/ /\n";

class ImageContext {
 public:
  // Fails (invalid_argument, naming the entry) when an entry cannot be written as ustar.
  static Result<ImageContext> make(const ImageContents& contents);

  std::uint64_t size() const { return size_; }
  // The archive from its first byte. Reading a file fails when it is gone or no longer what
  // was listed (type, size, mtime): "<path>: changed since it was listed; build again".
  // One stream at a time; the context must outlive it.
  BodySource stream();

 private:
  struct FileRef {
    std::string path;  // in the image, for messages
    std::filesystem::path source;
    std::uint64_t size = 0;
    std::int64_t mtime_ns = 0;
  };
  struct Piece {
    std::string bytes;             // headers, texts, padding
    std::optional<FileRef> file;   // or a file's content, read at its turn
  };
  Result<std::size_t> read(char* into, std::size_t room);

  std::vector<Piece> pieces_;
  std::uint64_t size_ = 0;
  // The stream's position.
  std::size_t piece_ = 0;
  std::uint64_t offset_ = 0;
  sys::Fd file_;  // the file being read
};

}  // namespace ignite::docker
