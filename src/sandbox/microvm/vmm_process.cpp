#include "sandbox/microvm/vmm_process.hpp"

#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>

#include <spdlog/spdlog.h>

#include "sandbox/microvm/vmm_root.hpp"
#include "sys/files.hpp"
#include "sys/unix_socket.hpp"

namespace ignite::sandbox::microvm {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

Result<sys::ChildProcess> spawn(std::vector<std::string> argv, const fs::path& log, const fs::path& share,
                                const std::vector<ShareEntry>& entries, const JailView& jail, int stdin_fd) {
  // Errors name the program, not where it is installed.
  const std::string name = fs::path(argv.at(0)).filename().string();
  std::vector<char*> args;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  // Everything the child touches is prepared here: between fork and exec it only makes syscalls.
  std::vector<std::string> targets;
  for (const auto& e : entries) targets.push_back((share / e.name).string());
  const std::string share_dir = share.string();
  const int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  // A jailed VMM opens its console log itself too (QEMU's -serial file:).
  if (null_fd < 0 || log_fd < 0 || (jail.uid && ::fchown(log_fd, jail.uid, jail.uid) != 0)) {
    const int err = errno;
    if (null_fd >= 0) ::close(null_fd);
    if (log_fd >= 0) ::close(log_fd);
    return fail(Error::from_errno("open " + name + "'s stdio", err));
  }
  const std::string jail_dir = jail.dir.string();
  const int namespaces =
      CLONE_NEWNS | (jail.uid ? CLONE_NEWIPC | CLONE_NEWNET : 0);
  // A jailed VMM's root: its dir, the system's program dirs, nothing else of the host.
  const VmmRoot root = jail.uid ? plan_vmm_root(jail.dir, {argv.at(0), share, jail.kvm}) : VmmRoot{};
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(stdin_fd >= 0 ? stdin_fd : null_fd, 0);
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    auto die = [](const char* what) {
      (void)!::write(2, "ignite: share: ", 15);
      (void)!::write(2, what, std::strlen(what));
      (void)!::write(2, "\n", 1);
      ::_exit(126);
    };
    for (int fd : jail.cgroup_join)
      if (::write(fd, "0", 1) != 1) die("join the VMM's cgroup");
    if (jail.uid && ::chdir(jail_dir.c_str()) != 0) die("chdir to the VM's dir");
    if (::unshare(namespaces) != 0) die("unshare");
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) die("make mounts private");
    if (!share_dir.empty() && ::mount("share", share_dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m") != 0)
      die("tmpfs");
    for (std::size_t i = 0; i < entries.size(); ++i) {
      const char* t = targets[i].c_str();
      if (entries[i].is_dir) {
        if (::mkdir(t, 0755) != 0) die("mkdir");
      } else {
        const int fd = ::open(t, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
        if (fd < 0) die("create");
        ::close(fd);
      }
      if (::mount(entries[i].source.c_str(), t, nullptr, MS_BIND | MS_REC, nullptr) != 0) die("bind");
      if (::mount(nullptr, t, nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, nullptr) != 0)
        die("remount read-only");
    }
    if (!share_dir.empty() &&
        ::mount(nullptr, share_dir.c_str(), nullptr, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, "mode=0755,size=1m") != 0)
      die("remount the share read-only");
    const char* failed = nullptr;
    if (jail.uid && enter_vmm_root(root, failed) != 0) die(failed);
    // The passed files become 3, 4, ...: first out of the way of those numbers, then down.
    const int n = static_cast<int>(jail.files.size());
    int moved[16];
    if (n > 16) die("too many files to pass");
    for (int i = 0; i < n; ++i)
      if ((moved[i] = ::fcntl(jail.files[static_cast<std::size_t>(i)], F_DUPFD_CLOEXEC, kJailFirstFd + n)) < 0)
        die("dup");
    for (int i = 0; i < n; ++i)
      if (::dup2(moved[i], kJailFirstFd + i) < 0) die("dup2");
    if (jail.uid) {
      const gid_t id = jail.uid;
      if (::setgroups(0, nullptr) != 0 || ::setresgid(id, id, id) != 0 || ::setresuid(id, id, id) != 0)
        die("drop to the VMM's uid");
      // The kernel cleared PDEATHSIG with the credentials: set again, then checked again.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) die("no_new_privs");
    }
    ::syscall(SYS_close_range, static_cast<unsigned>(kJailFirstFd + n), ~0u, 0u);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  const int err = errno;
  ::close(null_fd);
  ::close(log_fd);
  if (pid < 0) return fail(Error::from_errno("fork " + name, err));
  // Safe from PID reuse: the child is ours and not reaped yet.
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    const int e = errno;
    ::kill(pid, SIGKILL);
    return fail(Error::from_errno("pidfd_open " + name, e));
  }
  return sys::ChildProcess(pid, sys::Fd(pidfd));
}

}  // namespace

Result<sys::ChildProcess> spawn_with_share(std::vector<std::string> argv, const fs::path& log, const fs::path& share,
                                           const std::vector<ShareEntry>& entries, VmmJail* jail, int stdin_fd) {
  if (!jail) return spawn(std::move(argv), log, share, entries, {}, stdin_fd);
  auto child = spawn(std::move(argv), log, share, entries, jail->view(), stdin_fd);
  jail->spawned();
  return child;
}

Result<sys::ChildProcess> spawn_passing(std::vector<std::string> argv, const fs::path& log,
                                        const std::vector<int>& files) {
  JailView view;
  view.files = files;
  return spawn(std::move(argv), log, {}, {}, view, -1);
}

Result<sys::ChildProcess> spawn_qemu(const VmPlan& plan, const std::vector<ShareEntry>& entries, VmmJail& jail) {
  return spawn_with_share(qemu_argv(plan), plan.console, plan.share, entries, &jail);
}

Result<sys::Fd> connect_when_listening(const std::filesystem::path& socket, const sys::ChildProcess& qemu,
                                       Deadline deadline) {
  IGNITE_TRY_ASSIGN(const sockaddr_un addr, sys::unix_address(socket));
  for (;;) {
    sys::Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) return fail(Error::from_errno("socket"));
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) return fd;
    if (errno != ENOENT && errno != ECONNREFUSED) return fail(Error::from_errno("connect to a VM socket"));
    pollfd p{qemu.pidfd(), POLLIN, 0};
    if (::poll(&p, 1, 10) > 0) return fail(ErrorCode::unavailable, "the VMM exited before it listened");
    if (Clock::now() > deadline) return fail(ErrorCode::unavailable, "the VMM did not listen in time");
  }
}

Status await_builder(sys::ChildProcess builder, const fs::path& log, std::string_view tool, std::string_view product,
                     Deadline deadline) {
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return fail(ErrorCode::unavailable, "microvm: building " + std::string(product) + " took too long");
    pollfd p{builder.pidfd(), POLLIN, 0};
    const int n = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
    if (n > 0) break;
    if (n < 0 && errno != EINTR) return fail(Error::from_errno("poll " + std::string(tool)));
  }
  IGNITE_TRY_ASSIGN(sys::ExitStatus status, builder.wait());
  if (status.exit_code == 0) return ok();
  spdlog::warn("microvm: {} failed; its output:\n{}", tool, console_tail(log));
  return fail(ErrorCode::unavailable, "microvm: " + std::string(tool) + " could not build " + std::string(product) + " (" +
                                          (status.exit_code ? "exit " + std::to_string(*status.exit_code)
                                                            : "signal " + std::to_string(status.signal.value_or(0))) +
                                          ")");
}

std::uint64_t vmm_resident_bytes(pid_t pid) {
  std::ifstream statm("/proc/" + std::to_string(pid) + "/statm");
  std::uint64_t pages = 0, resident = 0;
  if (!(statm >> pages >> resident)) return 0;
  return resident * static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

std::string console_tail(const fs::path& log) {
  auto text = sys::read_file(log, 1u << 20);
  if (!text) return "(no console log)";
  return text->size() > 2000 ? text->substr(text->size() - 2000) : *text;
}


}  // namespace ignite::sandbox::microvm
