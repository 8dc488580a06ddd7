// One step of a mount plan, executed: shared by the native backend's init (child.cpp, built
// against musl without a C++ library: C headers only here) and the microvm guest agent
// (src/guest/), which runs the same plan inside the guest.
#include "sandbox/native/mount_ops.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <errno.h>

namespace ignite::sandbox::native {
namespace {

constexpr unsigned long kRoBind = MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV;

}  // namespace

int run_mount_op(const MountStep& op) noexcept {
  const char* t = op.target;
  switch (op.kind) {
    case OpKind::mkdir:
      return (::mkdir(t, 0755) == 0 || errno == EEXIST) ? 0 : -1;
    case OpKind::mkfile: {
      // Already there (a file of a read-only mount below, where open(O_CREAT) would be EROFS).
      struct stat st;
      if (::lstat(t, &st) == 0) return 0;
      int fd = ::open(t, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
      if (fd < 0) return errno == EEXIST ? 0 : -1;
      ::close(fd);
      return 0;
    }
    case OpKind::symlink:
      return ::symlink(op.source, t);
    case OpKind::write_file: {
      int fd = ::open(t, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, op.executable ? 0755 : 0644);
      if (fd < 0) return -1;
      size_t off = 0;
      while (off < op.data_size) {
        ssize_t n = ::write(fd, op.data + off, op.data_size - off);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        off += static_cast<size_t>(n);
      }
      const int err = errno;
      ::close(fd);
      errno = err;
      return off == op.data_size ? 0 : -1;
    }
    case OpKind::bind:
      if (::mount(op.source, t, nullptr, MS_BIND | MS_REC, nullptr) != 0) return -1;
      // Writable binds are the device nodes: they must keep working, so no MS_NODEV there.
      return ::mount(nullptr, t, nullptr, op.writable ? (MS_BIND | MS_REMOUNT | MS_NOSUID) : kRoBind,
                     nullptr);
    case OpKind::tmpfs:
      return ::mount("tmpfs", t, "tmpfs", MS_NOSUID | MS_NODEV, op.data);
    case OpKind::proc:
      return ::mount("proc", t, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
    case OpKind::mask:
      if (!op.is_dir) return ::mount("/dev/null", t, nullptr, MS_BIND, nullptr);
      // A bind keeps its source mount's flags (read-only, nosuid, nodev), and the tmpfs itself
      // is read-only.
      if (op.source[0] != '\0') return ::mount(op.source, t, nullptr, MS_BIND, nullptr);
      return ::mount("tmpfs", t, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV, "size=4k");
    case OpKind::overlay:
      return ::mount("overlay", t, "overlay", MS_RDONLY | MS_NOSUID | MS_NODEV, op.data);
    case OpKind::remount_ro:
      if (::mount(t, t, nullptr, MS_BIND | MS_REC, nullptr) != 0) return -1;
      return ::mount(nullptr, t, nullptr, kRoBind, nullptr);
  }
  errno = EINVAL;
  return -1;
}

}  // namespace ignite::sandbox::native
