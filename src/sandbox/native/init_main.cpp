// ignite-sandbox-init: the program a sandbox's init executes right after clone3 (init_launch.hpp).
// argv: [name, fd of the arguments (a memfd), fd of the report pipe]. It reads ChildArgs
// (child_wire.hpp) and becomes the init (child.cpp). Static, small and single-threaded, so it
// starts in well under a millisecond and its clone of the program copies next to nothing.
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <string>
#include <string_view>

#include "sandbox/native/child_wire.hpp"

namespace {

using ignite::sandbox::native::ChildReport;
using ignite::sandbox::native::ChildStage;

// Far above any real run's arguments (the environment and argv are bounded by the spec's
// validation), far below what would hurt.
constexpr std::size_t kMaxArgs = 64u << 20;

bool parse_fd(const char* text, int& fd) {
  const std::string_view s(text);
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), fd);
  return ec == std::errc() && end == s.data() + s.size() && fd >= 0;
}

bool read_all(int fd, std::string& out) {
  char buf[64 * 1024];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) return true;
    if (out.size() + static_cast<std::size_t>(n) > kMaxArgs) {
      errno = E2BIG;
      return false;
    }
    out.append(buf, static_cast<std::size_t>(n));
  }
}

[[noreturn]] void fail(int report_fd, int err) {
  ChildReport r{ChildStage::start_init, err, 0, 0, 0, 0};
  (void)!::write(report_fd, &r, sizeof r);
  ::_exit(127);
}

}  // namespace

int main(int argc, char** argv) {
  int args_fd = -1, report_fd = -1;
  if (argc != 3 || !parse_fd(argv[1], args_fd) || !parse_fd(argv[2], report_fd)) {
    std::fputs("ignite-sandbox-init: started by ignite as a sandbox's init; not meant to be run by hand\n", stderr);
    return 2;
  }
  ignite::sandbox::native::reset_signal_dispositions();
  std::string bytes;
  if (!read_all(args_fd, bytes)) fail(report_fd, errno);
  ::close(args_fd);
  static ignite::sandbox::native::DecodedChildArgs decoded;
  if (!decode_child_args(bytes, decoded)) fail(report_fd, EINVAL);
  ignite::sandbox::native::child_main(decoded.args);
}
