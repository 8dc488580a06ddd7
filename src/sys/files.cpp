#include "sys/files.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <charconv>
#include <limits>

#include "sys/fd.hpp"
#include "sys/write_all.hpp"

namespace ignite::sys {

Result<std::string> read_file(const std::filesystem::path& path) {
  return read_file(path, std::numeric_limits<std::uint64_t>::max());
}

namespace {

Result<std::string> read_all(const Fd& fd, const std::filesystem::path& path, std::uint64_t max_bytes) {
  std::string out;
  char buf[8192];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(Error::from_errno("read " + path.string()));
    if (n == 0) break;
    out.append(buf, static_cast<std::size_t>(n));
    // Checked per read, so an endless file stops after max_bytes + one buffer, not at ENOMEM.
    if (out.size() > max_bytes) {
      return fail(ErrorCode::invalid_argument,
                  path.string() + ": larger than " + std::to_string(max_bytes) + " bytes");
    }
  }
  return out;
}

}  // namespace

Result<std::string> read_file(const std::filesystem::path& path, std::uint64_t max_bytes) {
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return fail(Error::from_errno("open " + path.string()));
  return read_all(fd, path, max_bytes);
}

Result<std::string> read_plain_file(const std::filesystem::path& path, std::uint64_t max_bytes) {
  // O_NONBLOCK: a FIFO planted under the name must not hang us before fstat says what it is.
  Fd fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  if (!fd) return fail(Error::from_errno("open " + path.string()));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return fail(Error::from_errno("stat " + path.string()));
  if (!S_ISREG(st.st_mode)) return fail(ErrorCode::invalid_argument, path.string() + ": not a regular file");
  return read_all(fd, path, max_bytes);
}

namespace {
Status write_all(int fd, std::string_view data, const std::filesystem::path& path) {
  if (!sys::write_all(fd, data)) return fail(Error::from_errno("write " + path.string()));
  return ok();
}
}  // namespace

Status write_file(const std::filesystem::path& path, std::string_view data) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_TRUNC));
  if (!fd) return fail(Error::from_errno("open " + path.string()));
  return write_all(fd.get(), data, path);
}

Status write_new_file(const std::filesystem::path& path, std::string_view data, int mode) {
  Fd fd(::open(path.c_str(), O_WRONLY | O_CLOEXEC | O_CREAT | O_EXCL | O_NOFOLLOW,
               static_cast<mode_t>(mode)));
  if (!fd) return fail(Error::from_errno("create " + path.string()));
  return write_all(fd.get(), data, path);
}

bool older_than(const std::filesystem::path& path, std::chrono::seconds age) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return false;
  return std::chrono::system_clock::now() - std::chrono::system_clock::from_time_t(st.st_mtime) > age;
}

bool still_named(int fd, const std::filesystem::path& path) {
  struct stat held {}, named {};
  return ::fstat(fd, &held) == 0 && ::stat(path.c_str(), &named) == 0 && held.st_ino == named.st_ino &&
         held.st_dev == named.st_dev;
}

Result<std::uint64_t> read_u64(const std::filesystem::path& path) {
  IGNITE_TRY_ASSIGN(std::string text, read_file(path));
  std::uint64_t v = 0;
  auto begin = text.data();
  auto [ptr, ec] = std::from_chars(begin, begin + text.size(), v);
  if (ec != std::errc{}) {
    // "max" in cgroup v2 files means unlimited.
    if (text.rfind("max", 0) == 0) return UINT64_MAX;
    return fail(ErrorCode::internal, "parse number in " + path.string() + ": '" + text + "'");
  }
  return v;
}

}  // namespace ignite::sys
