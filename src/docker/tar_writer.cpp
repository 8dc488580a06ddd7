#include "docker/tar_writer.hpp"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>

namespace ignite::docker {
namespace {

constexpr std::size_t kBlock = kTarBlock;

// ustar header field offsets and widths (POSIX.1-1988).
struct Field {
  std::size_t offset;
  std::size_t width;
};
constexpr Field kName{0, 100}, kMode{100, 8}, kUid{108, 8}, kGid{116, 8}, kSize{124, 12},
    kMtime{136, 12}, kChksum{148, 8}, kType{156, 1}, kLinkname{157, 100}, kMagic{257, 6}, kVersion{263, 2},
    kUname{265, 32}, kGname{297, 32}, kPrefix{345, 155};

void put(std::array<char, kBlock>& h, Field f, std::string_view text) {
  std::memcpy(h.data() + f.offset, text.data(), std::min(text.size(), f.width));
}

// Zero-padded octal of width-1 digits and a NUL, the portable numeric form.
bool put_octal(std::array<char, kBlock>& h, Field f, std::uint64_t value) {
  char buf[32];
  const int n = std::snprintf(buf, sizeof buf, "%0*llo", static_cast<int>(f.width - 1),
                              static_cast<unsigned long long>(value));
  if (n < 0 || static_cast<std::size_t>(n) != f.width - 1) return false;  // does not fit
  std::memcpy(h.data() + f.offset, buf, f.width - 1);
  h[f.offset + f.width - 1] = '\0';
  return true;
}

// Security: the daemon unpacks the context; a name that climbs out ("..") or is absolute has
// no business in a context we write, so it is refused rather than passed on.
Status check_path(std::string_view path) {
  if (path.empty() || path.front() == '/' || path.back() == '/')
    return fail(ErrorCode::invalid_argument, "tar entry '" + std::string(path) + "': must be a relative path");
  std::size_t start = 0;
  while (start <= path.size()) {
    const std::size_t end = std::min(path.find('/', start), path.size());
    const std::string_view part = path.substr(start, end - start);
    if (part.empty() || part == "." || part == "..")
      return fail(ErrorCode::invalid_argument, "tar entry '" + std::string(path) + "': empty, '.' or '..' part");
    start = end + 1;
  }
  if (path.find('\0') != std::string_view::npos)
    return fail(ErrorCode::invalid_argument, "tar entry name contains NUL");
  return ok();
}

}  // namespace

Result<std::string> tar_header(std::string_view path, TarType type, std::uint64_t size, unsigned mode,
                               std::string_view link, std::uint64_t mtime) {
  IGNITE_TRY(check_path(path));
  std::string name(path);
  if (type == TarType::directory) name += '/';
  std::array<char, kBlock> h{};
  // Names over 100 bytes go into prefix (up to 155) + '/' + name (up to 100), split at a '/'.
  if (name.size() <= kName.width) {
    put(h, kName, name);
  } else {
    // A directory's own trailing '/' stays with its name, never the split point.
    const std::size_t last = name.size() - (type == TarType::directory ? 2 : 1);
    const std::size_t cut = name.rfind('/', std::min(last, kPrefix.width));
    if (cut == std::string::npos || cut == 0 || name.size() - cut - 1 > kName.width ||
        name.size() - cut - 1 == 0)
      return fail(ErrorCode::invalid_argument, "tar entry '" + std::string(path) + "': name too long for ustar");
    put(h, kPrefix, std::string_view(name).substr(0, cut));
    put(h, kName, std::string_view(name).substr(cut + 1));
  }
  if (type == TarType::symlink) {
    if (link.empty() || link.size() > kLinkname.width || link.find('\0') != std::string_view::npos)
      return fail(ErrorCode::invalid_argument,
                  "tar entry '" + std::string(path) + "': symlink target must be 1 to 100 bytes without NUL");
    put(h, kLinkname, link);
  }
  if (type != TarType::file) size = 0;
  if (!put_octal(h, kMode, mode & 07777) || !put_octal(h, kUid, 0) || !put_octal(h, kGid, 0) ||
      !put_octal(h, kSize, size) || !put_octal(h, kMtime, mtime))
    return fail(ErrorCode::invalid_argument, "tar entry '" + std::string(path) + "': too large for ustar");
  h[kType.offset] = static_cast<char>(type);
  put(h, kMagic, std::string_view("ustar\0", 6));
  put(h, kVersion, "00");
  put(h, kUname, "root");
  put(h, kGname, "root");
  // The checksum counts its own field as eight spaces; written as six octal digits, NUL, space.
  std::memset(h.data() + kChksum.offset, ' ', kChksum.width);
  unsigned sum = 0;
  for (char c : h) sum += static_cast<unsigned char>(c);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%06o", sum & 0777777u);
  std::memcpy(h.data() + kChksum.offset, buf, 6);
  h[kChksum.offset + 6] = '\0';
  h[kChksum.offset + 7] = ' ';
  return std::string(h.data(), h.size());
}

Status TarWriter::add_file(std::string_view path, std::string_view content, unsigned mode) {
  return add_entry(path, TarType::file, content, mode);
}

Status TarWriter::add_directory(std::string_view path, unsigned mode) {
  return add_entry(path, TarType::directory, {}, mode);
}

Status TarWriter::add_symlink(std::string_view path, std::string_view link) {
  return add_entry(path, TarType::symlink, {}, 0777, link);
}

Status TarWriter::add_entry(std::string_view path, TarType type, std::string_view content, unsigned mode,
                            std::string_view link) {
  IGNITE_TRY_ASSIGN(const std::string header, tar_header(path, type, content.size(), mode, link));
  out_.append(header);
  out_.append(content);
  out_.append(tar_padding(content.size()), '\0');
  return ok();
}

std::string TarWriter::finish() {
  out_.append(kTarTrailer, '\0');
  std::string done = std::move(out_);
  out_.clear();
  return done;
}

}  // namespace ignite::docker
