// ignite-sandbox-init: the program a sandbox's init executes right after clone3 (init_launch.hpp).
// argv: [name, fd of the arguments (a memfd or a pipe), fd of the report pipe]. It reads ChildArgs
// (child_decode.hpp) and becomes the init (child.cpp). Static, small and single-threaded, so its
// clone of the program copies next to nothing; built against musl, whose start-up is a tenth of
// glibc's here (CMakeLists.txt), so C headers only.
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "sandbox/native/child_decode.hpp"

namespace {

using ignite::sandbox::native::ChildReport;
using ignite::sandbox::native::ChildStage;

// Far above any real run's arguments (the environment and argv are bounded by the spec's
// validation), far below what would hurt.
constexpr size_t kMaxArgs = 64u << 20;

bool parse_fd(const char* text, int& fd) {
  if (*text == '\0') return false;
  long v = 0;
  for (; *text; ++text) {
    if (*text < '0' || *text > '9' || v > 0xfffffff) return false;
    v = v * 10 + (*text - '0');
  }
  fd = static_cast<int>(v);
  return true;
}

// Everything up to EOF, into `out` (malloc'd, grown as needed); `size` its length.
bool read_all(int fd, char*& out, size_t& size) {
  size_t cap = 64 * 1024;
  out = static_cast<char*>(malloc(cap));
  size = 0;
  if (!out) return false;
  for (;;) {
    if (size == cap) {
      if (cap >= kMaxArgs) {
        errno = E2BIG;
        return false;
      }
      cap *= 2;
      char* grown = static_cast<char*>(realloc(out, cap));
      if (!grown) return false;
      out = grown;
    }
    const ssize_t n = ::read(fd, out + size, cap - size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return false;
    if (n == 0) return true;
    size += static_cast<size_t>(n);
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
    static const char usage[] =
        "ignite-sandbox-init: started by ignite as a sandbox's init; not meant to be run by hand\n";
    (void)!::write(2, usage, sizeof usage - 1);
    return 2;
  }
  ignite::sandbox::native::reset_signal_dispositions();
  char* bytes = nullptr;
  size_t size = 0;
  if (!read_all(args_fd, bytes, size)) fail(report_fd, errno);
  ::close(args_fd);
  ignite::sandbox::native::DecodedChildArgs
      decoded;  // lives until the init exits: child_main never returns
  if (!decode_child_args(bytes, size, decoded)) fail(report_fd, EINVAL);
  free(bytes);
  ignite::sandbox::native::child_main(decoded.args);
}
