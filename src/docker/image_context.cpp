#include "docker/image_context.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "docker/tar_writer.hpp"

namespace ignite::docker {
namespace {

TarType tar_type(ImageEntryKind kind) {
  switch (kind) {
    case ImageEntryKind::directory: return TarType::directory;
    case ImageEntryKind::symlink: return TarType::symlink;
    case ImageEntryKind::file:
    case ImageEntryKind::text: break;
  }
  return TarType::file;
}

std::int64_t mtime_ns(const struct stat& st) {
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

}  // namespace

Result<ImageContext> ImageContext::make(const ImageContents& contents) {
  ImageContext context;
  std::string bytes;  // consecutive headers and texts go out as one piece
  auto add = [&](std::string_view path, TarType type, std::uint64_t size, unsigned mode,
                 std::string_view link = {}, std::int64_t mtime_ns = 0) -> Status {
    const auto mtime = static_cast<std::uint64_t>(std::max<std::int64_t>(mtime_ns, 0) / 1'000'000'000);
    IGNITE_TRY_ASSIGN(const std::string header, tar_header(path, type, size, mode, link, mtime));
    bytes += header;
    return ok();
  };
  IGNITE_TRY(add("Dockerfile", TarType::file, kRuntimeDockerfile.size(), 0644));
  bytes += kRuntimeDockerfile;
  bytes.append(tar_padding(kRuntimeDockerfile.size()), '\0');
  IGNITE_TRY(add(std::string(kContextRoot), TarType::directory, 0, 0755));
  for (const ImageEntry& e : contents.entries) {
    const std::string path = std::string(kContextRoot) + e.path;
    const TarType type = tar_type(e.kind);
    const std::uint64_t size = e.kind == ImageEntryKind::file ? e.size : e.kind == ImageEntryKind::text ? e.data.size() : 0;
    IGNITE_TRY(add(path, type, size, e.mode, e.kind == ImageEntryKind::symlink ? std::string_view(e.data) : std::string_view(),
                   e.mtime_ns));
    if (e.kind == ImageEntryKind::text) bytes += e.data;
    if (e.kind != ImageEntryKind::file) {
      bytes.append(tar_padding(size), '\0');
      continue;
    }
    context.pieces_.push_back({std::move(bytes), std::nullopt});
    bytes.clear();
    context.pieces_.push_back({{}, FileRef{e.path, e.source, e.size, e.mtime_ns}});
    bytes.append(tar_padding(size), '\0');
  }
  bytes.append(kTarTrailer, '\0');
  context.pieces_.push_back({std::move(bytes), std::nullopt});
  for (const Piece& p : context.pieces_) context.size_ += p.file ? p.file->size : p.bytes.size();
  return context;
}

BodySource ImageContext::stream() {
  piece_ = 0;
  offset_ = 0;
  file_.reset();
  return {size_, [this](char* into, std::size_t room) { return read(into, room); }};
}

Result<std::size_t> ImageContext::read(char* into, std::size_t room) {
  while (piece_ < pieces_.size()) {
    const Piece& p = pieces_[piece_];
    const std::uint64_t length = p.file ? p.file->size : p.bytes.size();
    if (offset_ == length) {  // this piece is done (an empty file, or all of it was sent)
      ++piece_;
      offset_ = 0;
      file_.reset();
      continue;
    }
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(room, length - offset_));
    if (!p.file) {
      std::memcpy(into, p.bytes.data() + offset_, want);
      offset_ += want;
      return want;
    }
    const FileRef& f = *p.file;
    const auto changed = [&f] {
      return fail(ErrorCode::failed_precondition,
                  "image file " + f.path + " (" + f.source.string() + "): changed since it was listed; build again");
    };
    if (!file_) {
      // Security: the listed file itself, not whatever a link put in its place since.
      file_.reset(::open(f.source.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
      struct stat st {};
      if (!file_ || ::fstat(file_.get(), &st) != 0 || !S_ISREG(st.st_mode) ||
          static_cast<std::uint64_t>(st.st_size) != f.size || mtime_ns(st) != f.mtime_ns)
        return changed();
    }
    ssize_t n;
    do n = ::read(file_.get(), into, want);
    while (n < 0 && errno == EINTR);
    if (n < 0) return fail(Error::from_errno("read " + f.source.string()));
    if (n == 0) return changed();  // it shrank while being read
    offset_ += static_cast<std::uint64_t>(n);
    return static_cast<std::size_t>(n);
  }
  return fail(ErrorCode::internal, "image context: read past its end");
}

}  // namespace ignite::docker
