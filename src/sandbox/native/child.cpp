// The sandbox's init, in ignite-sandbox-init: a single-threaded process of its own, which holds
// only this run's arguments. It still allocates nothing and logs nothing once it runs: the
// program is started from it with clone(CLONE_VM | CLONE_VFORK) and runs this code until its
// own execve. C headers only: it is built against musl without a C++ library (CMakeLists.txt).
#include "sandbox/native/child.hpp"

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <errno.h>
#include <signal.h>
#include <stdint.h>

#include "sandbox/native/mount_ops.hpp"
#include "sys/fd_send.hpp"

namespace ignite::sandbox::native {
namespace {

void report(int fd, ChildStage stage, int err, int detail = 0, int status = 0,
            int64_t cpu_usec = 0, int64_t maxrss_kb = 0) noexcept {
  ChildReport r{stage, err, detail, status, cpu_usec, maxrss_kb};
  // A short write cannot happen for a record this small on a pipe (PIPE_BUF atomicity).
  (void)!::write(fd, &r, sizeof r);
}

[[noreturn]] void die(const ChildArgs& a, ChildStage stage, int detail = 0) noexcept {
  report(a.report_fd, stage, errno, detail);
  ::_exit(127);
}

void build_root(const ChildArgs& a) noexcept {
  // Security: make every mount private first, so nothing we mount propagates to the host.
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) die(a, ChildStage::mount_private);
  // Relative paths in the plan (an overlay's empty layer) are relative to the root dir (the dir
  // itself: the tmpfs mounted on it by the first op does not change where we stand).
  if (::chdir(a.root) != 0) die(a, ChildStage::mount_private);
  for (uint32_t i = 0; i < a.step_count; ++i) {
    if (run_mount_op(a.steps[i]) != 0 && !(a.steps[i].optional && errno == ENOENT))
      die(a, ChildStage::mount_op, static_cast<int>(i));
  }
  // pivot_root(".", ".") stacks the old root on top of the new one; detaching it leaves only
  // the new root (the runc technique, no temporary directory needed).
  if (::chdir(a.root) != 0) die(a, ChildStage::pivot_root);
  if (::syscall(SYS_pivot_root, ".", ".") != 0) die(a, ChildStage::pivot_root);
  if (::umount2(".", MNT_DETACH) != 0) die(a, ChildStage::pivot_root);
  if (::chdir("/") != 0) die(a, ChildStage::pivot_root);
  if (::mount(nullptr, "/", nullptr, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, nullptr) != 0)
    die(a, ChildStage::remount_root);
  if (::chdir(a.workdir) != 0) die(a, ChildStage::chdir);
}

void drop_privileges(const ChildArgs& a) noexcept {
  if (!a.in_user_namespace) {
    // Raw syscalls: glibc's wrappers broadcast the change to every thread (SIGSETXID), which
    // a one-thread init does not need.
    if (::syscall(SYS_setgroups, 0, nullptr) != 0) die(a, ChildStage::identity);
    if (::syscall(SYS_setresgid, a.gid, a.gid, a.gid) != 0) die(a, ChildStage::identity);
  }
  // Empty the bounding set while we still hold CAP_SETPCAP, so no exec can regain a capability.
  for (int cap = 0; cap <= 63; ++cap) {
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) die(a, ChildStage::capabilities);
  }
  if (!a.in_user_namespace && ::syscall(SYS_setresuid, a.uid, a.uid, a.uid) != 0)
    die(a, ChildStage::identity);
  // Clear whatever remains (inside a user namespace we stay uid 0 of that namespace).
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (::syscall(SYS_capset, &hdr, data) != 0) die(a, ChildStage::capabilities);
  if (::prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) != 0 && errno != EINVAL)
    die(a, ChildStage::capabilities);
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) die(a, ChildStage::no_new_privs);
}

// Loads the filter. With a listener, the policy's `kill` rules are SECCOMP_RET_USER_NOTIF: the
// call blocks, the supervisor reads which syscall it was from the listener, records its name
// and kills the sandbox. The listener is created here (it belongs to this filter) and handed to
// the supervisor; our copy is CLOEXEC and the program never sees it.
void load_seccomp(const ChildArgs& a) noexcept {
  if (!a.seccomp_listener) {
    if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, a.seccomp, 0, 0) != 0) die(a, ChildStage::seccomp);
    return;
  }
  long listener = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER,
                            a.seccomp);
  if (listener < 0 && errno == EBUSY) {
    // An outer filter (we run inside a container that uses notifications) already has a
    // listener; the kernel allows one per chain. Without a listener the notify rules fail the
    // call with ENOSYS instead: still blocked, just not killed and named.
    if (::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, a.seccomp, 0, 0) != 0) die(a, ChildStage::seccomp);
    return;
  }
  if (listener < 0) die(a, ChildStage::seccomp);
  if (!sys::send_fd(a.notify_fd, static_cast<int>(listener))) die(a, ChildStage::seccomp_listener);
  ::close(static_cast<int>(listener));
}

// Loopback up and a listening TCP socket at 127.0.0.1:port, in the sandbox's own network
// namespace: the program's only way out, served by the supervisor's egress proxy.
int egress_listener(uint16_t port) noexcept {
  int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (s < 0) return -1;
  ifreq ifr{};
  ifr.ifr_name[0] = 'l';
  ifr.ifr_name[1] = 'o';
  int rc = ::ioctl(s, SIOCGIFFLAGS, &ifr);
  if (rc == 0) {
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP);
    rc = ::ioctl(s, SIOCSIFFLAGS, &ifr);
  }
  ::close(s);
  if (rc != 0) return -1;
  int l = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (l < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(l, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(l, 64) != 0) {
    ::close(l);
    return -1;
  }
  return l;
}

// Hands the supervisor what must reach it from inside the new root (see ChildArgs).
void hand_over(const ChildArgs& a) noexcept {
  if (a.export_path) {
    int fd = ::open(a.export_path, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 || !sys::send_fd(a.handover_fd, fd)) die(a, ChildStage::export_dir);
    ::close(fd);
  }
  if (a.egress_port) {
    int fd = egress_listener(a.egress_port);
    if (fd < 0 || !sys::send_fd(a.handover_fd, fd)) die(a, ChildStage::egress);
    ::close(fd);
  }
  if (a.handover_fd >= 0) ::close(a.handover_fd);  // the program must not hold it
}

[[noreturn]] void exec_program(const ChildArgs& a) noexcept {
  // The blocked mask survives execve; the program must start with none, whatever the
  // supervisor's threads had. (Its dispositions are init's: reset_signal_dispositions.)
  sigset_t none;
  sigemptyset(&none);
  if (::sigprocmask(SIG_SETMASK, &none, nullptr) != 0) die(a, ChildStage::signals);

  for (int i = 0; i < a.rlimit_count; ++i) {
    // prlimit64 itself: glibc's and musl's setrlimit declare the resource with different types.
    rlimit rl{a.rlimits[i].value, a.rlimits[i].value};
    if (::syscall(SYS_prlimit64, 0, a.rlimits[i].resource, &rl, nullptr) != 0) die(a, ChildStage::rlimit);
  }
  if (::dup2(a.stdin_fd, 0) < 0 || ::dup2(a.stdout_fd, 1) < 0 || ::dup2(a.stderr_fd, 2) < 0)
    die(a, ChildStage::stdio);
  // Every other fd closes at execve (CLOEXEC rather than close, so report_fd still works if
  // execve itself fails).
  if (::syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC) != 0) die(a, ChildStage::stdio);
  // Security: seccomp last, so the setup above may use what the program may not.
  load_seccomp(a);
  ::execve(a.argv[0], a.argv, a.envp);
  die(a, ChildStage::exec);
}

int start_program(void* args) { exec_program(*static_cast<const ChildArgs*>(args)); }

// Closes every fd except the ones the child uses. The clone inherited all of the supervisor's
// fds (CLOEXEC only acts at execve), including the parent ends of our own pipes: a kept copy
// of the stdin write end would mean the program never sees EOF.
void close_inherited_fds(const ChildArgs& a) noexcept {
  int keep[] = {a.sync_fd,   a.report_fd,     a.exec_fd,       a.stdin_fd,      a.stdout_fd,
                a.stderr_fd, a.notify_fd,     a.handover_fd,   a.cgroup_fds[0], a.cgroup_fds[1],
                a.cgroup_fds[2], a.cgroup_fds[3]};
  constexpr int n = sizeof keep / sizeof keep[0];
  for (int i = 1; i < n; ++i) {  // insertion sort: no allocation allowed here
    for (int j = i; j > 0 && keep[j - 1] > keep[j]; --j) {
      int t = keep[j];
      keep[j] = keep[j - 1];
      keep[j - 1] = t;
    }
  }
  unsigned next = 0;
  for (int fd : keep) {
    if (fd < 0) continue;  // an optional channel this run does not use
    auto ufd = static_cast<unsigned>(fd);
    if (ufd > next) ::syscall(SYS_close_range, next, ufd - 1, 0);
    next = ufd + 1;
  }
  ::syscall(SYS_close_range, next, ~0U, 0);
}

// Security: the program shares init's PID namespace and, in rootless mode, its uid. Making init
// non-dumpable puts /proc/1/{mem,environ,maps,fd} out of the program's reach (they need ptrace
// access, which now needs CAP_SYS_PTRACE over the host's user namespace): init's descriptors
// reach the supervisor and the cgroup. Its memory holds this run's own arguments only (it is
// not a copy of the supervisor: init_launch.hpp), and its environment is empty.
void hide_supervisor(const ChildArgs& a) noexcept {
  if (::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) die(a, ChildStage::hide_supervisor);
}

// Security: init dies with its supervisor. Nobody else enforces the run's time limit or removes
// its cgroup, so a supervisor killed by SIGKILL (which it cannot handle) must take the sandbox
// with it: PR_SET_PDEATHSIG(SIGKILL) makes the kernel kill init when its parent goes, and init's
// exit kills everything in the PID namespace. Two caveats make the check below necessary:
// - the parent may already be gone when the setting is made (it then never fires); getppid()
//   cannot tell, it is 0 inside a new PID namespace. The supervisor holds the read end of the
//   report pipe for the whole run (nothing else does once close_inherited_fds ran), so a write
//   end that polls POLLERR ("no readers") means it is gone.
// - the setting is cleared when the effective uid/gid changes (drop_privileges), so it is made
//   again after that, and checked again.
// The "parent" is the *thread* that cloned us: PDEATHSIG fires when that thread exits, even if
// the supervisor process lives on. Today the thread that clones is the one that supervises,
// blocked in Backend::run until the sandbox is gone (the CLI's main thread, the server's
// long-lived pool threads), so it cannot exit first. A warm pool that starts sandboxes on one
// thread and hands them to another must keep the starting thread alive (or use a subreaper).
void die_with_supervisor(const ChildArgs& a) noexcept {
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) die(a, ChildStage::sync);
  pollfd report{a.report_fd, POLLOUT, 0};
  if (::poll(&report, 1, 0) == 1 && (report.revents & POLLERR)) ::_exit(127);
}

// Moves init (one thread) into the run's cgroup v1
// hierarchies. Writing "0" to `tasks` moves the calling thread alone, which the kernel does
// without taking cgroup_threadgroup_rwsem for writing; the supervisor writing init's pid to
// cgroup.procs takes it, and its first taking in a while waits for an RCU grace period
// (5-20 ms here, the largest single cost of a cold start).
// Security: before the sync read, so before the program exists; a failed move ends init with
// a report, and no process of the run ever runs outside its limits.
void join_cgroup(const ChildArgs& a) noexcept {
  for (int fd : a.cgroup_fds) {
    if (fd < 0) continue;
    if (::write(fd, "0", 1) != 1) die(a, ChildStage::cgroup);
    ::close(fd);
  }
}

}  // namespace

void reset_signal_dispositions() noexcept {
  // The kernel's call, not glibc's sigaction: that refuses the two signals glibc keeps for
  // itself (32 and 33), which a parent may have left ignored too. Layout of the kernel's
  // struct sigaction (x86_64, arm64): handler, flags, restorer, then the 64-signal mask.
  struct {
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)();
    uint64_t mask;
  } dfl{SIG_DFL, 0, nullptr, 0};
  for (int sig = 1; sig <= 64; ++sig) (void)::syscall(SYS_rt_sigaction, sig, &dfl, nullptr, sizeof dfl.mask);
}

void child_main(const ChildArgs& a) noexcept {
  // As early as possible; checked once we hold no copy of the report pipe's read end.
  if (::prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) die(a, ChildStage::sync);
  close_inherited_fds(a);
  die_with_supervisor(a);
  join_cgroup(a);
  // EOF here also means the supervisor is gone: it holds the write end until it releases us.
  char go = 0;
  if (::read(a.sync_fd, &go, 1) != 1) die(a, ChildStage::sync);
  ::close(a.sync_fd);
  hide_supervisor(a);
  if (::sethostname("ignite", 6) != 0) die(a, ChildStage::hostname);
  build_root(a);
  hand_over(a);
  drop_privileges(a);
  die_with_supervisor(a);  // setresuid() cleared PR_SET_PDEATHSIG

  // clone(CLONE_VM | CLONE_VFORK), as posix_spawn does, on a stack of its own: the program
  // borrows init's memory until its execve instead of copying it (page tables, then a
  // copy-on-write fault for each page either side touches). Init waits (VFORK) until the
  // program's execve (or its death): nothing in exec_program touches memory init uses.
  alignas(16) static char program_stack[64 * 1024];
  pid_t program = ::clone(start_program, program_stack + sizeof program_stack, CLONE_VM | CLONE_VFORK | SIGCHLD,
                          const_cast<ChildArgs*>(&a));
  if (program < 0) die(a, ChildStage::fork);

  // Init keeps none of the program's pipe ends: EOF on them must mean the program side is gone.
  ::close(a.exec_fd);
  ::close(a.stdin_fd);
  ::close(a.stdout_fd);
  ::close(a.stderr_fd);
  ::close(a.notify_fd);
  // As PID 1 we reap every orphan; when the program itself exits we exit too, and the kernel
  // then kills whatever it left behind in the namespace (double forks, setsid daemons).
  for (;;) {
    int status = 0;
    rusage ru{};
    pid_t pid = ::wait4(-1, &status, __WALL, &ru);
    if (pid == program) {
      auto usec = [](const timeval& tv) { return int64_t{tv.tv_sec} * 1000000 + tv.tv_usec; };
      report(a.report_fd, ChildStage::finished, 0, 0, status, usec(ru.ru_utime) + usec(ru.ru_stime),
             ru.ru_maxrss);
      ::_exit(0);
    }
    if (pid < 0 && errno != EINTR) die(a, ChildStage::fork);
  }
}

}  // namespace ignite::sandbox::native
