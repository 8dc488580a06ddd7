#include "sandbox/native/mount_plan.hpp"

#include "core/proc_masks.hpp"

#include <sys/stat.h>

#include <set>

namespace ignite::sandbox::native {
namespace {

namespace fs = std::filesystem;

class PlanBuilder {
 public:
  explicit PlanBuilder(fs::path root) : root_(std::move(root)) { plan_.root = root_.string(); }

  // Creates every missing parent directory of `inside` (a path in the sandbox) once.
  void parents(const fs::path& inside) {
    fs::path acc = "/";
    for (const auto& part : inside.parent_path().relative_path()) {
      acc /= part;
      dir(acc);
    }
  }
  void dir(const fs::path& inside) {
    if (made_.insert(inside.string()).second) add({OpKind::mkdir, "", host(inside)});
  }
  void add(MountOp op) { plan_.ops.push_back(std::move(op)); }
  std::string host(const fs::path& inside) const { return (root_ / inside.relative_path()).string(); }
  MountPlan take() { return std::move(plan_); }

 private:
  fs::path root_;
  MountPlan plan_;
  std::set<std::string> made_;
};

// overlayfs splits its options at ',' and lowerdir at ':'; both may be escaped with '\'.
std::string overlay_escape(const std::string& path) {
  std::string out;
  for (char c : path) {
    if (c == ',' || c == ':' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

// The device a path is on, or 0 if it cannot be told.
dev_t device_of(const fs::path& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 ? st.st_dev : 0;
}

// Read-only host paths as the sandbox sees them: a bind, or (private_inodes) an overlay whose
// inodes belong to this run alone. A read-only overlay needs two lower layers; the second is
// empty. For a source on the shared empty dir's filesystem it is that dir, so that both layers
// are on one filesystem. Otherwise it is an empty dir beside the root, named relative to it
// ("../empty": the child runs the plan from inside the root dir), because overlay options show
// in the sandbox's /proc/self/mountinfo and the run's scratch path is nobody's business there.
class ReadOnlyMounts {
 public:
  ReadOnlyMounts(PlanBuilder& b, const fs::path& root, bool private_inodes, const fs::path& shared_empty)
      : b_(b), beside_(root.parent_path()), private_(private_inodes), shared_(shared_empty) {
    if (private_) b_.add({OpKind::mkdir, "", (beside_ / "empty").string()});
    if (private_ && !shared_.empty()) shared_dev_ = device_of(shared_);
  }

  void add(const fs::path& source, const std::string& target, bool is_dir) {
    if (!private_) return b_.add({OpKind::bind, source.string(), target});
    if (is_dir) return b_.add({OpKind::overlay, source.string(), target, lower(source)});
    // A file: an overlay of its directory is assembled beside the root (it disappears with the
    // old root at pivot_root), and the file is bound from there. Through its real path: a
    // relative link (/etc/resolv.conf -> ../run/...) would resolve against the staging dir.
    std::error_code ec;
    const fs::path real = fs::canonical(source, ec);
    if (!ec && real != source) return add(real, target, false);
    const fs::path stage = beside_ / ("ovl" + std::to_string(files_++));
    b_.add({OpKind::mkdir, "", stage.string()});
    b_.add({OpKind::overlay, source.parent_path().string(), stage.string(), lower(source.parent_path())});
    b_.add({OpKind::bind, (stage / source.filename()).string(), target});
  }

 private:
  // Through an overlay whose layers are on two filesystems, node touched ~400 more pages at
  // start (2300 -> 2700 page faults, +6 ms here): the overlay reports inode numbers of its own
  // then. xino=auto makes it report the real ones (layer in the high bits) where the layers
  // still differ, at the price of a kernel log line per such mount; on one filesystem it is
  // a no-op.
  std::string lower(const fs::path& dir) const {
    const bool same_fs = shared_dev_ != 0 && device_of(dir) == shared_dev_;
    return "lowerdir=" + overlay_escape(dir.string()) + ":" + (same_fs ? overlay_escape(shared_.string()) : "../empty") +
           ",xino=auto";
  }
  PlanBuilder& b_;
  fs::path beside_;
  bool private_;
  fs::path shared_;
  dev_t shared_dev_ = 0;
  int files_ = 0;
};

std::string tmpfs_options(std::uint64_t bytes, std::uint64_t inodes, const char* mode) {
  return "size=" + std::to_string(bytes) + ",nr_inodes=" + std::to_string(inodes) + ",mode=" + mode;
}

}  // namespace

Result<MountPlan> build_mount_plan(const SandboxSpec& spec, const fs::path& root,
                                   const SandboxIdentity& id, bool private_inodes, const fs::path& shared_empty) {
  PlanBuilder b(root);
  // The root itself is a small tmpfs: it holds only mount points, generated /etc files and the
  // spec's inline files, and is remounted read-only after pivot_root.
  std::uint64_t inline_bytes = 0;
  for (const auto& f : spec.files) inline_bytes += f.content.size() + 4096;
  b.add({OpKind::tmpfs, "", root.string(), tmpfs_options((4 << 20) + inline_bytes, 4096, "0755")});
  ReadOnlyMounts read_only(b, root, private_inodes, shared_empty);

  // Debian's merged /usr: /bin, /lib, /lib64, /sbin are symlinks into /usr. Mirror them so
  // ELF interpreters (/lib64/ld-linux-x86-64.so.2) resolve inside.
  for (const char* link : {"/bin", "/lib", "/lib64", "/sbin"}) {
    std::error_code ec;
    if (fs::is_symlink(link, ec)) b.add({OpKind::symlink, fs::read_symlink(link, ec).string(), b.host(link)});
  }

  for (const auto& m : spec.mounts) {
    struct stat st {};
    if (::stat(m.source.c_str(), &st) != 0)
      return fail(ErrorCode::invalid_argument, "mount source does not exist: " + m.source.string());
    b.parents(m.target);
    if (S_ISDIR(st.st_mode)) {
      b.dir(m.target);
    } else {
      b.add({OpKind::mkfile, "", b.host(m.target)});
    }
    if (m.writable) {
      MountOp op{OpKind::bind, m.source.string(), b.host(m.target)};
      op.writable = true;
      b.add(std::move(op));
    } else if (m.exclusive) {
      // This run's alone (a staging dir of ours): it shares no inode with another run, so a
      // read-only bind does what a per-run overlay would, and spares its set-up and teardown.
      b.add({OpKind::bind, m.source.string(), b.host(m.target)});
    } else {
      read_only.add(m.source, b.host(m.target), S_ISDIR(st.st_mode));
    }
  }

  for (const auto& f : spec.files) {
    b.parents(f.target);
    MountOp op{OpKind::write_file, "", b.host(f.target), f.content};
    op.executable = f.executable;
    b.add(std::move(op));
  }
  if (spec.output) {
    // Owned by the sandbox user inside; its pages are charged to the run's memory cgroup.
    const OutputDir& o = *spec.output;
    b.parents(o.target);
    b.dir(o.target);
    b.add({OpKind::tmpfs, "", b.host(o.target),
           tmpfs_options(o.max_bytes, o.max_entries, "0755") + ",uid=" + std::to_string(id.uid) +
               ",gid=" + std::to_string(id.gid)});
    for (const auto& f : o.seed) b.add({OpKind::write_file, "", b.host(o.target / f.target), f.content});
  }

  b.dir("/tmp");
  b.add({OpKind::tmpfs, "", b.host("/tmp"),
         tmpfs_options(spec.limits.tmp_bytes, 4096, "1777") });

  // Minimal /dev: four character devices bound from the host, plus the usual fd links.
  b.dir("/dev");
  for (const char* dev : {"/dev/null", "/dev/zero", "/dev/random", "/dev/urandom"}) {
    b.add({OpKind::mkfile, "", b.host(dev)});
    MountOp op{OpKind::bind, dev, b.host(dev)};
    op.writable = true;
    b.add(std::move(op));
  }
  b.add({OpKind::symlink, "/proc/self/fd", b.host("/dev/fd")});
  b.add({OpKind::symlink, "/proc/self/fd/0", b.host("/dev/stdin")});
  b.add({OpKind::symlink, "/proc/self/fd/1", b.host("/dev/stdout")});
  b.add({OpKind::symlink, "/proc/self/fd/2", b.host("/dev/stderr")});
  b.dir("/dev/shm");
  b.add({OpKind::tmpfs, "", b.host("/dev/shm"), tmpfs_options(1 << 20, 64, "1777")});

  // Fresh /proc for the new PID namespace, with the kernel-wide parts hidden (as Docker does).
  b.dir("/proc");
  b.add({OpKind::proc, "", b.host("/proc")});
  for (std::string_view f : kMaskedProcFiles) {
    MountOp op{OpKind::mask, "", b.host(f)};
    op.optional = true;
    b.add(std::move(op));
  }
  // The directories get one empty read-only tmpfs, mounted beside the root (it goes with the old
  // root at pivot_root) and bound over each: a tmpfs of their own cost ~15 us each to set up and
  // tear down (a new superblock), a bind next to nothing (measured, 400 mount namespaces each).
  const std::string empty_ro = (root.parent_path() / "masked").string();
  b.add({OpKind::mkdir, "", empty_ro});
  MountOp tmpfs{OpKind::mask, "", empty_ro};
  tmpfs.is_dir = true;
  b.add(std::move(tmpfs));
  for (std::string_view d : kMaskedProcDirs) {
    MountOp op{OpKind::mask, empty_ro, b.host(d)};
    op.optional = true;
    op.is_dir = true;
    b.add(std::move(op));
  }
  MountOp sys_ro{OpKind::remount_ro, "", b.host(kReadOnlyProc)};
  sys_ro.optional = true;
  b.add(std::move(sys_ro));

  b.dir("/etc");
  const std::string uid = std::to_string(id.uid), gid = std::to_string(id.gid);
  // Rootless runs are uid 0 of their own user namespace: no separate sandbox user then.
  const std::string sandbox_user = id.uid == 0 ? "" : "sandbox:x:" + uid + ":" + gid + ":sandbox:/tmp:/usr/sbin/nologin\n";
  const std::string sandbox_group = id.gid == 0 ? "" : "sandbox:x:" + gid + ":\n";
  b.add({OpKind::write_file, "", b.host("/etc/passwd"),
         "root:x:0:0:root:/root:/usr/sbin/nologin\n" + sandbox_user +
             "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"});
  b.add({OpKind::write_file, "", b.host("/etc/group"), "root:x:0:\n" + sandbox_group + "nogroup:x:65534:\n"});
  b.add({OpKind::write_file, "", b.host("/etc/hosts"), "127.0.0.1\tlocalhost\n::1\tlocalhost\n"});
  b.add({OpKind::write_file, "", b.host("/etc/hostname"), "ignite\n"});
  if (spec.limits.network || spec.egress) {
    for (const char* f : {"/etc/resolv.conf", "/etc/nsswitch.conf"}) {
      if (!fs::exists(f)) continue;
      b.add({OpKind::mkfile, "", b.host(f)});
      read_only.add(f, b.host(f), false);
    }
    if (fs::is_directory("/etc/ssl")) {
      b.dir("/etc/ssl");
      read_only.add("/etc/ssl", b.host("/etc/ssl"), true);
    }
  }
  b.parents(spec.workdir);
  b.dir(spec.workdir);
  return b.take();
}

}  // namespace ignite::sandbox::native
