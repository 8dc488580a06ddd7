#include "sandbox/microvm/vmm_root.hpp"

#include <fcntl.h>
#include <linux/mount.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <set>

namespace ignite::sandbox::microvm {

namespace fs = std::filesystem;

namespace {

constexpr unsigned long kReadOnly = MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV;

// A recursive bind made read-only, nosuid and nodev through and through: a remount changes the
// top mount only, and a mount below it (a separate /usr/local, the share's own binds) would
// keep its flags. mount_setattr(AT_RECURSIVE) needs Linux 5.12; before, the top alone.
int read_only_tree(const char* target) noexcept {
  mount_attr attr{};
  attr.attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
  if (::syscall(SYS_mount_setattr, AT_FDCWD, target, AT_RECURSIVE, &attr, sizeof attr) == 0) return 0;
  if (errno != ENOSYS) return -1;
  return ::mount(nullptr, target, nullptr, kReadOnly, nullptr);
}

// The dirs a dynamically linked VMM's binary and libraries come from (merged /usr: links).
constexpr const char* kSystemDirs[] = {"usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32"};
constexpr const char* kDevices[] = {"null", "zero", "random", "urandom"};

class Planner {
 public:
  Planner(VmmRoot& out, const fs::path& host) : out_(out), host_(host) {}

  void dir(const fs::path& at) {
    fs::path path;
    for (const auto& part : at.relative_path()) {
      path /= part;
      if (made_.insert(path.string()).second) add(RootStep::Kind::dir, "", path);
    }
  }
  void add(RootStep::Kind kind, std::string source, const fs::path& at) {
    out_.steps.push_back({kind, std::move(source), (fs::path(out_.root) / at.relative_path()).string()});
  }
  // A host file bound read-only (bind_dev: a device node, usable) where it is, if it exists.
  void file(const fs::path& at, RootStep::Kind kind = RootStep::Kind::bind_ro, fs::path source = {}) {
    if (source.empty()) source = host_ / at.relative_path();
    std::error_code ec;
    if (!fs::exists(source, ec)) return;
    dir(at.parent_path());
    add(RootStep::Kind::file, "", at);
    add(kind, source.string(), at);
  }
  const fs::path& host() const { return host_; }

 private:
  VmmRoot& out_;
  fs::path host_;
  std::set<std::string> made_;
};

}  // namespace

VmmRoot plan_vmm_root(const fs::path& vm_dir, const VmmNeeds& needs, const fs::path& host) {
  VmmRoot out;
  out.vm_dir = vm_dir.string();
  out.root = (vm_dir / "root").string();
  Planner p(out, host);
  // The binary by its real path in `host` (a link such as /bin on a merged /usr leads into a
  // bind below, which takes no new file).
  fs::path binary = needs.binary;
  if (!binary.empty()) {
    std::error_code ec;
    const fs::path real = fs::weakly_canonical(host / binary.relative_path(), ec);
    const fs::path rel = real.lexically_relative(host);
    if (!ec && !rel.empty() && *rel.begin() != "..") binary = fs::path("/") / rel;
  }
  bool binary_given = false;
  for (const char* name : kSystemDirs) {
    const fs::path source = host / name;
    std::error_code ec;
    const auto st = fs::symlink_status(source, ec);
    if (ec) continue;
    if (fs::is_symlink(st)) {
      p.add(RootStep::Kind::link, fs::read_symlink(source, ec).string(), fs::path("/") / name);
    } else if (fs::is_directory(st)) {
      p.dir(fs::path("/") / name);
      p.add(RootStep::Kind::bind_ro, source.string(), fs::path("/") / name);
      const auto rel = binary.lexically_relative(fs::path("/") / name);
      binary_given = binary_given || (!rel.empty() && *rel.begin() != "..");
    }
  }
  if (!binary_given && !binary.empty()) p.file(binary);
  p.file("/etc/ld.so.cache");
  for (const char* dev : kDevices) p.file(fs::path("/dev") / dev, RootStep::Kind::bind_dev);
  if (needs.kvm) p.file("/dev/kvm", RootStep::Kind::bind_dev);
  p.dir("/proc");
  p.add(RootStep::Kind::proc, "", "/proc");
  p.dir(vm_dir);
  p.add(RootStep::Kind::bind_vm_dir, vm_dir.string(), vm_dir);
  // Its share's mounts come with it (the VM dir's own bind is not recursive: its "root" is this).
  if (!needs.share.empty()) p.add(RootStep::Kind::bind_ro, needs.share.string(), needs.share);
  return out;
}

int enter_vmm_root(const VmmRoot& root, const char*& failed) noexcept {
  auto step = [&](const char* what, int rc) {
    if (rc != 0) failed = what;
    return rc;
  };
  if ((::mkdir(root.root.c_str(), 0755) != 0 && errno != EEXIST) ||
      ::mount("vmm-root", root.root.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=64k") != 0)
    return step("the VMM's root", -1);
  for (const auto& s : root.steps) {
    const char* t = s.target.c_str();
    switch (s.kind) {
      case RootStep::Kind::dir:
        if (::mkdir(t, 0755) != 0 && errno != EEXIST) return step("mkdir in the VMM's root", -1);
        break;
      case RootStep::Kind::file: {
        const int fd = ::open(t, O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0) return step("a file in the VMM's root", -1);
        ::close(fd);
        break;
      }
      case RootStep::Kind::link:
        if (::symlink(s.source.c_str(), t) != 0) return step("a link in the VMM's root", -1);
        break;
      case RootStep::Kind::bind_ro:
        if (::mount(s.source.c_str(), t, nullptr, MS_BIND | MS_REC, nullptr) != 0 || read_only_tree(t) != 0)
          return step("a read-only bind in the VMM's root", -1);
        break;
      case RootStep::Kind::bind_dev:
        if (::mount(s.source.c_str(), t, nullptr, MS_BIND, nullptr) != 0 ||
            ::mount(nullptr, t, nullptr, MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NOEXEC, nullptr) != 0)
          return step("a device in the VMM's root", -1);
        break;
      case RootStep::Kind::bind_vm_dir:
        if (::mount(s.source.c_str(), t, nullptr, MS_BIND, nullptr) != 0 ||
            ::mount(nullptr, t, nullptr, MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr) != 0)
          return step("the VM's dir in the VMM's root", -1);
        break;
      case RootStep::Kind::proc:
        // Its own processes only, and none of /proc's system files (Linux >= 5.8). Never the
        // whole /proc instead: a kernel without these options has the VMM not start.
        if (::mount("proc", t, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=invisible,subset=pid") != 0)
          return step("/proc in the VMM's root (hidepid=invisible,subset=pid needs Linux 5.8)", -1);
        break;
    }
  }
  // pivot_root(".", "."): the old root ends up stacked on the new one, and is detached.
  if (::chdir(root.root.c_str()) != 0) return step("chdir to the VMM's root", -1);
  if (::syscall(SYS_pivot_root, ".", ".") != 0) return step("pivot_root", -1);
  if (::umount2(".", MNT_DETACH) != 0) return step("detach the host's root", -1);
  if (::mount(nullptr, "/", nullptr, kReadOnly, nullptr) != 0) return step("the VMM's root read-only", -1);
  return step("chdir to the VM's dir", ::chdir(root.vm_dir.c_str()));
}

}  // namespace ignite::sandbox::microvm
