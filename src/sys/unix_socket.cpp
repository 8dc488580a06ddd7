#include "sys/unix_socket.hpp"

#include <sys/socket.h>
#include <sys/stat.h>

#include <algorithm>

namespace ignite::sys {

Result<sockaddr_un> unix_address(const std::filesystem::path& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (path.native().size() >= sizeof addr.sun_path)
    return fail(ErrorCode::internal, "the path of socket " + path.filename().string() + " is too long");
  std::copy_n(path.c_str(), path.native().size(), addr.sun_path);
  return addr;
}

Result<Fd> listen_unix(const std::filesystem::path& path, int type, mode_t mode) {
  IGNITE_TRY_ASSIGN(const sockaddr_un addr, unix_address(path));
  Fd fd(::socket(AF_UNIX, type | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd) return fail(Error::from_errno("socket"));
  // chmod after bind, not a umask around it: the umask is process-wide, and other threads
  // create files meanwhile.
  if (::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
    return fail(Error::from_errno("bind " + path.filename().string()));
  if (::chmod(path.c_str(), mode) != 0) return fail(Error::from_errno("chmod " + path.filename().string()));
  if (::listen(fd.get(), 1) != 0) return fail(Error::from_errno("listen"));
  return fd;
}

}  // namespace ignite::sys
