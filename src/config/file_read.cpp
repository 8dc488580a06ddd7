// Bounded reads of small config files (service.yaml, package.json).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>

#include "config/service_files.hpp"

namespace ignite::config::detail {

Result<std::string> read_small_file(const std::filesystem::path& path, std::uintmax_t max_bytes) {
  // O_NONBLOCK: opening a FIFO planted as service.yaml must not hang the loader; the fstat
  // below then refuses anything that is not a regular file.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return fail(Error::from_errno(path.string()));
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};

  struct stat st {};
  if (::fstat(fd, &st) != 0) return fail(Error::from_errno(path.string()));
  if (!S_ISREG(st.st_mode)) {
    return fail(ErrorCode::invalid_argument, path.string() + ": not a regular file");
  }
  if (st.st_size < 0 || static_cast<std::uintmax_t>(st.st_size) > max_bytes) {
    return fail(ErrorCode::invalid_argument,
                path.string() + ": file too large (limit " + std::to_string(max_bytes) + " bytes)");
  }
  std::string data;
  std::array<char, 8192> buf{};
  while (true) {
    const ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail(Error::from_errno(path.string()));
    }
    if (n == 0) break;
    data.append(buf.data(), static_cast<std::size_t>(n));
    // The file may grow between fstat and read; the limit holds regardless.
    if (data.size() > max_bytes) {
      return fail(ErrorCode::invalid_argument, path.string() + ": file too large (limit " +
                                                   std::to_string(max_bytes) + " bytes)");
    }
  }
  return data;
}

}  // namespace ignite::config::detail
