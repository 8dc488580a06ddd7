#include "guest/agent_root.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

namespace ignite::guest {
namespace {

namespace fs = std::filesystem;

Status do_mount(const std::string& source, const std::string& target, const char* type, unsigned long flags,
                const std::string& data = {}) {
  if (::mount(source.c_str(), target.c_str(), type, flags, data.empty() ? nullptr : data.c_str()) != 0)
    return fail(Error::from_errno("mount " + target));
  return ok();
}

// Security: targets come from the host's plan, but are still kept inside the root: absolute,
// no "..", so that a plan can never place a file over the agent's own tree.
Result<std::string> inside(const std::string& target) {
  const fs::path p(target);
  if (!p.is_absolute()) return fail(ErrorCode::invalid_argument, "a relative target: " + target);
  for (const auto& part : p)
    if (part == "..") return fail(ErrorCode::invalid_argument, "a target with '..': " + target);
  return std::string(kJobRoot) + p.lexically_normal().string();
}

Status make_dirs(const std::string& path) {
  std::error_code ec;
  fs::create_directories(path, ec);
  if (ec) return fail(ErrorCode::internal, "mkdir " + path + ": " + ec.message());
  ::chmod(path.c_str(), 0755);
  return ok();
}

Status write_file(const std::string& path, const std::string& content, mode_t mode) {
  IGNITE_TRY(make_dirs(fs::path(path).parent_path().string()));
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) return fail(Error::from_errno("create " + path));
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return fail(Error::from_errno("write " + path, err));
    }
    done += static_cast<std::size_t>(n);
  }
  ::fchmod(fd, mode);
  ::close(fd);
  return ok();
}

// A read-only bind of one host path (file or dir) at `target`.
Status bind_host(const JobMount& m) {
  IGNITE_TRY_ASSIGN(std::string target, inside(m.target));
  const std::string source = std::string(kHostRoot) + fs::path(m.source).lexically_normal().string();
  struct stat st {};
  if (::stat(source.c_str(), &st) != 0) return fail(Error::from_errno("mount source " + m.source));
  if (S_ISDIR(st.st_mode)) {
    IGNITE_TRY(make_dirs(target));
  } else {
    IGNITE_TRY(write_file(target, "", 0644));
  }
  IGNITE_TRY(do_mount(source, target, nullptr, MS_BIND | MS_REC));
  // Security: 9p is read-only already (QEMU enforces it); the remount says so to the guest too.
  return do_mount("", target, nullptr, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV);
}

Status make_dev() {
  const std::string dev = std::string(kJobRoot) + "/dev";
  IGNITE_TRY(make_dirs(dev));
  IGNITE_TRY(do_mount("dev", dev, "tmpfs", MS_NOSUID | MS_NOEXEC, "size=64k,mode=0755"));
  for (const char* name : {"null", "zero", "full", "random", "urandom"}) {
    const std::string node = dev + "/" + name;
    IGNITE_TRY(write_file(node, "", 0666));
    IGNITE_TRY(do_mount(std::string("/dev/") + name, node, nullptr, MS_BIND));
  }
  IGNITE_TRY(make_dirs(dev + "/shm"));
  if (::symlink("/proc/self/fd", (dev + "/fd").c_str()) != 0) return fail(Error::from_errno("symlink /dev/fd"));
  ::symlink("/proc/self/fd/0", (dev + "/stdin").c_str());
  ::symlink("/proc/self/fd/1", (dev + "/stdout").c_str());
  ::symlink("/proc/self/fd/2", (dev + "/stderr").c_str());
  return do_mount("", dev, nullptr, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NOEXEC);
}

}  // namespace

Status build_job_root(const JobMessage& job) {
  IGNITE_TRY(make_dirs(kJobRoot));
  IGNITE_TRY(do_mount("job", kJobRoot, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=" + std::to_string(64u << 20)));
  for (const auto& m : job.mounts) IGNITE_TRY(bind_host(m));
  for (const auto& f : job.files) {
    IGNITE_TRY_ASSIGN(std::string path, inside(f.target));
    IGNITE_TRY(write_file(path, f.content, f.executable ? 0755 : 0644));
  }
  for (const auto& d : job.dirs) {
    IGNITE_TRY_ASSIGN(std::string path, inside(d));
    IGNITE_TRY(make_dirs(path));
  }
  IGNITE_TRY_ASSIGN(std::string workdir, inside(job.workdir));
  IGNITE_TRY(make_dirs(workdir));
  const std::string tmp = std::string(kJobRoot) + "/tmp";
  IGNITE_TRY(make_dirs(tmp));
  IGNITE_TRY(do_mount("tmp", tmp, "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777,size=" + std::to_string(job.tmp_bytes)));
  if (!job.output_dir.empty()) {
    IGNITE_TRY_ASSIGN(std::string out, inside(job.output_dir));
    IGNITE_TRY(make_dirs(out));
    IGNITE_TRY(do_mount("out", out, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0777,size=" + std::to_string(job.output_bytes)));
  }
  IGNITE_TRY(make_dev());
  const std::string proc = std::string(kJobRoot) + "/proc";
  IGNITE_TRY(make_dirs(proc));
  IGNITE_TRY(do_mount("proc", proc, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC));
  return do_mount("", kJobRoot, nullptr, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV);
}

}  // namespace ignite::guest
