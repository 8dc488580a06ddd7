#include "guest/host_link.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/vm_sockets.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <string>
#include <vector>

#include "guest/device_wait.hpp"

namespace ignite::guest {
namespace {

// /dev/vportNpM whose name is ours; empty when there is none (yet).
std::string find_port() {
  DIR* dir = ::opendir("/sys/class/virtio-ports");
  if (!dir) return {};
  std::string dev;
  while (const dirent* e = ::readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    std::ifstream name(std::string("/sys/class/virtio-ports/") + e->d_name + "/name");
    std::string text;
    std::getline(name, text);
    if (text == kPortName) {
      dev = std::string("/dev/") + e->d_name;
      break;
    }
  }
  ::closedir(dir);
  return dev;
}

Result<sys::Fd> connect_vsock(std::uint32_t port) {
  sockaddr_vm addr{};
  addr.svm_family = AF_VSOCK;
  addr.svm_cid = VMADDR_CID_HOST;
  addr.svm_port = port;
  int err = 0;
  sys::Fd fd = wait_for_device([&] {
    sys::Fd s(::socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (s && ::connect(s.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) return s;
    err = errno;
    return sys::Fd();
  });
  if (fd) return fd;
  return fail(Error::from_errno("connect to the host's vsock port " + std::to_string(port), err));
}

// The virtio-blk disks, in order (vda, vdb, ...), once the first is there.
std::vector<std::string> disks() {
  std::vector<std::string> out = wait_for_device([] {
    std::vector<std::string> found;
    if (DIR* dir = ::opendir("/sys/block")) {
      while (const dirent* e = ::readdir(dir))
        if (std::string_view(e->d_name).substr(0, 2) == "vd") found.push_back(e->d_name);
      ::closedir(dir);
    }
    return found;
  });
  // vda..vdz, then vdaa..: by length first.
  std::sort(out.begin(), out.end(),
            [](const std::string& a, const std::string& b) { return a.size() != b.size() ? a.size() < b.size() : a < b; });
  return out;
}

constexpr unsigned long kReadOnly = MS_RDONLY | MS_NOSUID | MS_NODEV;

}  // namespace

Result<sys::Fd> open_host_channel(const BootArgs& args) {
  if (args.vsock_port) return connect_vsock(args.vsock_port);
  const std::string port = wait_for_device(find_port);
  if (port.empty()) return fail(ErrorCode::unavailable, "no virtio-serial port named " + std::string(kPortName));
  // Opened once, read-write, and kept open: separate opens lose the host's bytes.
  sys::Fd fd(::open(port.c_str(), O_RDWR | O_CLOEXEC | O_NOCTTY));
  if (!fd) return fail(Error::from_errno("open " + port));
  return fd;
}

Status read_host(const HostChannel& host) {
  char buf[64 * 1024];
  const ssize_t n = ::read(host.fd, buf, sizeof buf);
  if (n > 0) {
    host.reader->feed(std::string_view(buf, static_cast<std::size_t>(n)));
    return ok();
  }
  if (n < 0 && errno != EINTR && errno != EAGAIN) return fail(Error::from_errno("read the host channel"));
  if (n == 0 && host.stream_ends) return fail(ErrorCode::unavailable, "the host closed the channel");
  if (n == 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  return ok();
}

Status mount_host_share(const BootArgs& args, const char* target) {
  ::mkdir(target, 0755);
  if (!args.share_disks) {
    if (::mount("hostroot", target, "9p", kReadOnly, "trans=virtio,version=9p2000.L,msize=512000,cache=loose") != 0)
      return fail(Error::from_errno("mount the host's share (9p)"));
    return ok();
  }
  const auto names = disks();
  if (names.empty()) return fail(ErrorCode::unavailable, "the host's share: no virtio-blk disk");
  if (names.size() == 1) {
    if (::mount(("/dev/" + names[0]).c_str(), target, "squashfs", kReadOnly, nullptr) != 0)
      return fail(Error::from_errno("mount the host's share (/dev/" + names[0] + ")"));
    return ok();
  }
  // Several images: each at /disks/<name>, their union (lower layers only: read-only) at target.
  ::mkdir("/disks", 0755);
  std::string lower;
  for (const auto& name : names) {
    const std::string at = "/disks/" + name;
    ::mkdir(at.c_str(), 0755);
    if (::mount(("/dev/" + name).c_str(), at.c_str(), "squashfs", kReadOnly, nullptr) != 0)
      return fail(Error::from_errno("mount the host's share (/dev/" + name + ")"));
    lower += (lower.empty() ? "" : ":") + at;
  }
  if (::mount("share", target, "overlay", kReadOnly, ("lowerdir=" + lower).c_str()) != 0)
    return fail(Error::from_errno("mount the union of the host's share disks"));
  return ok();
}

}  // namespace ignite::guest
