#include "guest/agent_job.hpp"

#include <fcntl.h>
#include <grp.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <vector>

#include "core/memory_thrash.hpp"
#include "guest/agent_output.hpp"
#include "guest/job_end.hpp"
#include "sandbox/native/mount_ops.hpp"
#include "sys/fd_passing.hpp"
#include "sys/write_all.hpp"

namespace ignite::guest {
namespace {

using Clock = std::chrono::steady_clock;
constexpr const char* kCgroup = "/sys/fs/cgroup/job";

bool write_text(const std::string& path, const std::string& text) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  const bool done = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  return done;
}

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// "key value" lines (memory.events, cpu.stat): the value of `key`, 0 when absent.
std::uint64_t keyed(const std::string& text, const std::string& key) {
  std::istringstream in(text);
  std::string k;
  std::uint64_t v = 0;
  while (in >> k >> v)
    if (k == key) return v;
  return 0;
}

// The job cgroup's counters for the thrash watch (core/memory_thrash.hpp).
ThrashWatch thrash_watch(std::uint64_t memory_bytes) {
  const std::string cg(kCgroup);
  return ThrashWatch(
      memory_bytes, [cg] { return keyed(read_text(cg + "/memory.events"), "max"); },
      [cg] {
        const std::string stat = read_text(cg + "/memory.stat");
        return MemorySample{0, keyed(stat, "workingset_refault_file"),
                            evictable_file_bytes(keyed(stat, "file"), keyed(stat, "shmem"))};
      });
}

std::uint64_t number(const std::string& path) {
  try {
    return std::stoull(read_text(path));
  } catch (...) {
    return 0;
  }
}

// The job's cgroup, with its limits. The agent stays in the root cgroup.
std::string make_cgroup(const JobMessage& job) {
  write_text("/sys/fs/cgroup/cgroup.subtree_control", "+memory +pids +cpu");
  if (::mkdir(kCgroup, 0755) != 0 && errno != EEXIST) return "mkdir " + std::string(kCgroup) + ": " + std::strerror(errno);
  if (!write_text(std::string(kCgroup) + "/memory.max", std::to_string(job.memory_bytes))) return "memory.max refused";
  write_text(std::string(kCgroup) + "/memory.swap.max", "0");
  if (!write_text(std::string(kCgroup) + "/pids.max", std::to_string(job.max_processes))) return "pids.max refused";
  const auto quota = static_cast<std::uint64_t>(std::llround(job.cpu_cores * 100000.0));
  write_text(std::string(kCgroup) + "/cpu.max", std::to_string(std::max<std::uint64_t>(quota, 1000)) + " 100000");
  return {};
}

// Whether the job's cgroup holds no process any more, within `wait` (it was killed).
bool cgroup_emptied(std::chrono::milliseconds wait) {
  const auto until = Clock::now() + wait;
  for (;;) {
    // Read as text: an unreadable file is not "empty".
    if (read_text(std::string(kCgroup) + "/cgroup.events").find("populated 0") != std::string::npos) return true;
    if (Clock::now() > until) return false;
    write_text(std::string(kCgroup) + "/cgroup.kill", "1");
    ::usleep(5000);
  }
}

void set_limit(int resource, std::uint64_t value) {
  const rlimit r{value, value};
  ::setrlimit(resource, &r);
}

// PID 1 of the job's PID namespace, once the program is forked: ours, as native's init is. It
// reaps every orphan, sends the program's wait status on `status_out` when the program ends, and
// exits (the kernel then kills what is left of the namespace). It stays root in the guest and
// undumpable, so the program can neither signal it nor read its /proc/1; the OOM killer passes it.
[[noreturn]] void job_init(pid_t program, int status_out) {
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  if (const int fd = ::open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC); fd >= 0) {
    (void)!::write(fd, "-1000", 5);
    ::close(fd);
  }
  for (;;) {
    int status = 0;
    const pid_t ended = ::waitpid(-1, &status, 0);
    if (ended < 0 && errno == EINTR) continue;
    if (ended < 0) ::_exit(0);  // no child left (cannot happen before the program ended)
    if (ended == program) {
      (void)!::write(status_out, &status, sizeof status);
      ::_exit(0);
    }
  }
}

// The child, between fork and exec (the agent is single-threaded, so allocation is safe here).
// A failed step is reported on `report` (close-on-exec: empty when the exec succeeded). It
// becomes the namespace's init (job_init) and forks the program, whose status goes on
// `status_out`.
[[noreturn]] void exec_job(const JobMessage& job, char* const* argv, char* const* envp, int in, int out, int err,
                           int report, int status_out, int notify_out) {
  auto die = [report](const std::string& what) {
    const std::string text = what + ": " + std::strerror(errno);
    (void)!::write(report, text.data(), text.size());
    ::_exit(127);
  };
  ::dup2(in, 0);
  ::dup2(out, 1);
  ::dup2(err, 2);
  ::setsid();
  const int procs = ::open("/sys/fs/cgroup/job/cgroup.procs", O_WRONLY | O_CLOEXEC);
  if (procs < 0 || ::write(procs, "0", 1) != 1) die("join the job's cgroup");
  ::close(procs);
  // The job's root: the native backend's plan, executed by the same code, in a mount namespace
  // of its own (the agent's view, /host included, stays as it is).
  if (::unshare(CLONE_NEWNS) != 0) die("unshare the mount namespace");
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) die("make mounts private");
  if (::mkdir(job.root.c_str(), 0755) != 0 && errno != EEXIST) die("mkdir the root");
  if (::chdir(job.root.c_str()) != 0) die("chdir to the root");
  for (std::size_t i = 0; i < job.plan.size(); ++i) {
    const auto& op = job.plan[i];
    if (sandbox::native::run_mount_op(sandbox::native::step_of(op)) != 0 && !(op.optional && errno == ENOENT))
      die("mount step " + std::to_string(i) + " (" + op.target + ")");
  }
  // Security: the root replaces the initramfs (switch_root's move): /host, the agent and its
  // files are under it, out of reach of a process without privileges.
  if (::chdir(job.root.c_str()) != 0 || ::mount(".", "/", nullptr, MS_MOVE, nullptr) != 0 || ::chroot(".") != 0 ||
      ::chdir("/") != 0)
    die("enter the job's root");
  if (::mount(nullptr, "/", nullptr, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, nullptr) != 0)
    die("remount the root read-only");
  if (::chdir(job.workdir.c_str()) != 0) die("chdir to the working directory");
  // The program is PID 2, not the namespace's init: an init ignores the signals it has no
  // handler for (its own SIGSTOP, a SIGTERM) and must reap orphans, which a program never does.
  const pid_t program = ::fork();
  if (program < 0) die("fork the program");
  if (program > 0) {
    // Nothing of the agent's stays open in the init: a pipe end it held would keep the
    // program's stdin from ever ending (and the agent's streams open).
    ::syscall(SYS_close_range, 0u, static_cast<unsigned>(status_out) - 1, 0u);
    ::syscall(SYS_close_range, static_cast<unsigned>(status_out) + 1, ~0u, 0u);
    job_init(program, status_out);
  }
  ::close(status_out);
  set_limit(RLIMIT_NOFILE, job.max_open_files);
  set_limit(RLIMIT_FSIZE, job.max_file_bytes);
  set_limit(RLIMIT_STACK, job.stack_bytes);
  set_limit(RLIMIT_CORE, 0);
  // No capability can come back: the bounding set is emptied (native's init does the same).
  for (int cap = 0; cap <= 63; ++cap)
    if (::prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) die("drop the capability bounding set");
  // Security: the program is not root in the guest: it cannot remount, reach /host, load
  // anything into the guest kernel, or change the cgroup limits that hold it.
  if (::setgroups(0, nullptr) != 0 || ::setgid(job.gid) != 0 || ::setuid(job.uid) != 0) die("drop to the job's uid");
  set_limit(RLIMIT_NPROC, job.max_processes);
  if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) die("no_new_privs");
  // Security: the native backend's syscall policy, last, as its init loads it: the guest kernel
  // is one more wall, not a reason to hand the program every call (decode_job checked the size).
  std::vector<sock_filter> code(job.seccomp.size() / sizeof(sock_filter));
  std::memcpy(code.data(), job.seccomp.data(), code.size() * sizeof(sock_filter));
  const sock_fprog prog{static_cast<unsigned short>(code.size()), code.data()};
  if (notify_out >= 0) {
    // The notify variant: the listener goes to the agent, which names the call a kill rule
    // stopped and kills the job (native's init hands it to its supervisor the same way).
    const long listener = ::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER, &prog);
    if (listener < 0) die("load the seccomp filter");
    if (!sys::send_fd(notify_out, static_cast<int>(listener))) die("hand the seccomp listener over");
    ::close(static_cast<int>(listener));
  } else if (::syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0) {
    die("load the seccomp filter");
  }
  ::execve(argv[0], argv, envp);
  die(std::string("execute ") + argv[0]);
  ::_exit(127);  // die() does not return; the compiler cannot see it through the lambda
}

struct Capture {
  int fd = -1;
  guest::Stream which;
  std::uint64_t kept = 0;
  bool truncated = false;
};

// The drop dirs, in the agent's own root (the plan binds them read-only into the job's).
std::string make_drops(const JobMessage& job) {
  if (job.drops.empty()) return {};
  if (::mkdir(std::string(kDropsRoot).c_str(), 0755) != 0 && errno != EEXIST) return std::strerror(errno);
  for (const auto& d : job.drops)
    if (::mkdir(d.c_str(), 0755) != 0) return d + ": " + std::strerror(errno);
  return {};
}

// The hand-off's files into the drop dirs, as root, readable by the program's uid; nothing
// there is replaced or followed. Empty, or what failed.
std::string place_entries(const HandOffMessage& handoff) {
  for (const auto& e : handoff.entries) {
    if (e.dir) {
      if (::mkdir(e.path.c_str(), 0755) != 0) return e.path + ": " + std::strerror(errno);
      continue;
    }
    const int fd = ::open(e.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, e.executable ? 0755 : 0644);
    if (fd < 0) return e.path + ": " + std::strerror(errno);
    const bool written = sys::write_all(fd, e.data);
    ::close(fd);
    if (!written) return e.path + ": " + std::strerror(errno);
  }
  return {};
}

// A warm job's program (a runtime's bootstrap) is up and waits for its job on its stdin. Until
// the host's handoff frame comes, what it writes goes to the host as it is written (its ready
// marker; the host judges it) and is not the job's output. The hand-off; nullopt when the
// program ended first (the job's loop then reports how); an error when the wait broke: the
// channel, a frame that is not a hand-off, or a call the filter stopped while idle (nothing of
// the job has run then).
Result<std::optional<HandOffMessage>> await_handoff(HostChannel host, Capture (&streams)[2], int pidfd, int listener,
                                                    const Send& send, std::string& chunk) {
  for (;;) {
    IGNITE_TRY_ASSIGN(std::optional<std::string> frame, host.reader->next());
    if (frame) {
      IGNITE_TRY_ASSIGN(Message m, decode(*frame));
      if (m.type != "handoff" || !m.handoff) return fail(ErrorCode::invalid_argument, "a '" + m.type + "' frame");
      return std::optional<HandOffMessage>(std::move(*m.handoff));
    }
    pollfd fds[5] = {{host.fd, POLLIN, 0},
                     {pidfd, POLLIN, 0},
                     {listener, POLLIN, 0},
                     {streams[0].fd, POLLIN, 0},
                     {streams[1].fd, POLLIN, 0}};
    if (::poll(fds, 5, -1) < 0 && errno != EINTR) return fail(Error::from_errno("poll"));
    if (fds[1].revents) return std::optional<HandOffMessage>();
    if (fds[2].revents & POLLIN) return fail(ErrorCode::internal, "the filter stopped a call of the bootstrap");
    for (auto& s : streams) {
      if (s.fd < 0) continue;
      const ssize_t got = ::read(s.fd, chunk.data(), chunk.size());
      if (got > 0) send(output_frame(s.which, std::string_view(chunk.data(), static_cast<std::size_t>(got))));
      if (got == 0) {
        ::close(s.fd);
        s.fd = -1;
      }
    }
    if (fds[0].revents) IGNITE_TRY(read_host(host));
  }
}

}  // namespace

ResultMessage run_job(const JobMessage& job, const Send& send, HostChannel host) {
  ResultMessage result;
  if (auto why = make_cgroup(job); !why.empty()) {
    result.outcome = "error";
    result.detail = "job cgroup: " + why;
    return result;
  }
  if (auto why = make_drops(job); !why.empty()) {
    result.outcome = "error";
    result.detail = "drop dirs: " + why;
    return result;
  }
  if (job.warm && (host.fd < 0 || !host.reader)) {
    result.outcome = "error";
    result.detail = "a warm job without the host's channel";
    return result;
  }
  std::vector<std::string> argv_s = job.argv, env_s = job.env;
  std::vector<char*> argv, envp;
  for (auto& a : argv_s) argv.push_back(a.data());
  for (auto& e : env_s) envp.push_back(e.data());
  argv.push_back(nullptr);
  envp.push_back(nullptr);

  int in[2], out[2], err[2], report[2], program_status[2], notify[2] = {-1, -1};
  if (::pipe2(in, O_CLOEXEC) != 0 || ::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0 ||
      ::pipe2(report, O_CLOEXEC) != 0 || ::pipe2(program_status, O_CLOEXEC) != 0 ||
      (job.seccomp_notify && ::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, notify) != 0)) {
    result.outcome = "error";
    result.detail = "pipes: " + std::string(std::strerror(errno));
    return result;
  }
  // The job gets a PID namespace of its own (our init, then the program): its /proc shows only
  // its processes.
  if (::unshare(CLONE_NEWPID) != 0) {
    result.outcome = "error";
    result.detail = "unshare the PID namespace: " + std::string(std::strerror(errno));
    return result;
  }
  const pid_t pid = ::fork();
  if (pid == 0)
    exec_job(job, argv.data(), envp.data(), in[0], out[1], err[1], report[1], program_status[1], notify[1]);
  ::close(in[0]);
  ::close(out[1]);
  ::close(err[1]);
  ::close(report[1]);
  ::close(program_status[1]);
  if (notify[1] >= 0) ::close(notify[1]);
  // Sent before the program's exec, so there by the time the report pipe closes (or never).
  auto take_listener = [&notify] {
    if (notify[0] < 0) return -1;
    const int listener = sys::receive_fd(notify[0]).release();
    ::close(notify[0]);
    notify[0] = -1;
    return listener;
  };
  if (pid < 0) {
    result.outcome = "error";
    result.detail = "fork: " + std::string(std::strerror(errno));
    if (notify[0] >= 0) ::close(notify[0]);
    return result;
  }
  // The report pipe closes at the exec (or carries why the set-up failed): wait for it, so the
  // set-up is not the program's failure and its time is not the program's.
  std::string failed(512, '\0');
  ssize_t failed_n;
  do failed_n = ::read(report[0], failed.data(), failed.size());
  while (failed_n < 0 && errno == EINTR);
  ::close(report[0]);
  if (failed_n > 0) {
    ::waitpid(pid, nullptr, 0);
    if (const int listener = take_listener(); listener >= 0) ::close(listener);
    ::close(program_status[0]);
    ::close(in[1]);
    ::close(out[0]);
    ::close(err[0]);
    result.outcome = "error";
    result.detail = "job set-up: " + failed.substr(0, static_cast<std::size_t>(failed_n));
    return result;
  }
  // The output dir, held open from outside the program's namespace: it outlives the program.
  int out_dir = -1;
  if (!job.output_dir.empty())
    out_dir = ::open(("/proc/" + std::to_string(pid) + "/root" + job.output_dir).c_str(),
                     O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  int listener = take_listener();
  Capture streams[2] = {{out[0], guest::Stream::out}, {err[0], guest::Stream::err}};
  for (auto& s : streams) ::fcntl(s.fd, F_SETFL, O_NONBLOCK);  // one poll serves every stream
  std::string chunk(64 * 1024, '\0');
  std::string stdin_data = job.stdin_data;
  std::string handoff_failed;  // why a warm job's hand-off did not happen: nothing of it ran
  std::uint64_t cpu_before = 0;  // a warm job's: its bootstrap's CPU time is not the job's
  if (job.warm) {
    auto handoff = await_handoff(host, streams, pidfd, listener, send, chunk);
    if (!handoff) {
      handoff_failed = handoff.error().message;
    } else if (*handoff) {
      handoff_failed = place_entries(**handoff);
      stdin_data = std::move((*handoff)->stdin_data);
      cpu_before = keyed(read_text(std::string(kCgroup) + "/cpu.stat"), "usage_usec");
      for (auto& s : streams) s.kept = 0;  // the ready marker is not the job's output
    }
    // Killed unless handed over; a bootstrap that ended while idle is reported as it ended.
    if (!handoff || !*handoff || !handoff_failed.empty()) write_text(std::string(kCgroup) + "/cgroup.kill", "1");
  }
  const auto started = Clock::now();
  int stdin_fd = in[1];
  ::fcntl(stdin_fd, F_SETFL, O_NONBLOCK);
  ::signal(SIGPIPE, SIG_IGN);
  std::size_t stdin_done = 0;
  if (stdin_data.empty()) {
    ::close(stdin_fd);
    stdin_fd = -1;
  }
  const auto deadline = started + std::chrono::milliseconds(job.wall_ms);
  bool exited = false;
  int status = 0;
  JobEnd end;
  ThrashWatch memory = thrash_watch(job.memory_bytes);
  // Reaps the program if it has ended (the cgroup goes with it: what it left running dies).
  auto reap = [&] {
    if (exited || ::waitpid(pid, &status, WNOHANG) != pid) return;
    exited = true;
    write_text(std::string(kCgroup) + "/cgroup.kill", "1");
  };
  while (!exited || streams[0].fd >= 0 || streams[1].fd >= 0) {
    pollfd fds[5];
    nfds_t n = 0;
    for (auto& s : streams)
      if (s.fd >= 0) fds[n++] = pollfd{s.fd, POLLIN, 0};
    if (stdin_fd >= 0) fds[n++] = pollfd{stdin_fd, POLLOUT, 0};
    if (!exited && pidfd >= 0) fds[n++] = pollfd{pidfd, POLLIN, 0};
    const nfds_t at_listener = n;
    if (listener >= 0) fds[n++] = pollfd{listener, POLLIN, 0};
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0 && !end.killed_at_deadline) {
      reap();  // an exit in the last poll's slice is an exit in time, not a timeout
      // Read before our kill: an OOM kill counted now was the kernel's, before the deadline.
      end.oom_kill_before_deadline = keyed(read_text(std::string(kCgroup) + "/memory.events"), "oom_kill") > 0;
      // The whole cgroup, so children that kept the pipes open end too.
      end.killed_at_deadline = !exited;
      write_text(std::string(kCgroup) + "/cgroup.kill", "1");
      if (!end.killed_at_deadline) break;  // exited, but descendants hold the pipes: done anyway
    }
    if (!exited && !end.killed_at_deadline && !end.killed_thrashing && memory.thrashing()) {
      // Pinned at its limit with no OOM kill coming (core/memory_thrash.hpp): the memory limit
      // ends it now.
      end.killed_thrashing = true;
      write_text(std::string(kCgroup) + "/cgroup.kill", "1");
    }
    // Slices of the thrash watch's cadence.
    const long long slice = kThrashWatchEvery.count();
    ::poll(fds, n, left <= 0 ? static_cast<int>(slice) : static_cast<int>(std::min<long long>(left, slice)));
    if (listener >= 0 && fds[at_listener].revents != 0) {
      // A kill rule stopped a call: note which, and end the job (the call never runs). Hung up:
      // nothing under the filter is left.
      seccomp_notif req;
      std::memset(&req, 0, sizeof req);  // the kernel insists on a zeroed buffer
      if ((fds[at_listener].revents & POLLIN) && !end.blocked &&
          ::ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) == 0) {
        end.blocked = std::pair{req.data.nr, req.data.arch};
        write_text(std::string(kCgroup) + "/cgroup.kill", "1");
      }
      if (end.blocked || (fds[at_listener].revents & (POLLHUP | POLLERR | POLLNVAL))) {
        ::close(listener);
        listener = -1;
      }
    }
    for (auto& s : streams) {
      if (s.fd < 0) continue;
      const ssize_t got = ::read(s.fd, chunk.data(), chunk.size());
      if (got == 0 || (got < 0 && errno != EAGAIN && errno != EINTR)) {
        ::close(s.fd);
        s.fd = -1;
        continue;
      }
      if (got < 0) continue;
      // A few bytes past the cap cross too: the host's capture (sandbox/common/output_capture)
      // then sees the stream overflow and cuts it where native cuts it (a character cut by the
      // cap is dropped whole), instead of receiving it cut at the byte.
      const std::uint64_t cap = job.max_output_bytes + 4;
      const auto room = cap - std::min(s.kept, cap);
      const auto keep = std::min<std::uint64_t>(room, static_cast<std::uint64_t>(got));
      if (keep < static_cast<std::uint64_t>(got)) s.truncated = true;
      if (keep > 0) send(output_frame(s.which, std::string_view(chunk.data(), keep)));
      s.kept += keep;
    }
    if (stdin_fd >= 0) {
      const ssize_t put = ::write(stdin_fd, stdin_data.data() + stdin_done, stdin_data.size() - stdin_done);
      if (put > 0) stdin_done += static_cast<std::size_t>(put);
      if ((put < 0 && errno != EAGAIN) || stdin_done == stdin_data.size()) {
        ::close(stdin_fd);
        stdin_fd = -1;
      }
    }
    reap();
  }
  if (!exited) ::waitpid(pid, &status, 0);
  // `pid` is the namespace's init: the program's own status is what the init sent, if it lived
  // to send it (a kill of the whole cgroup at the deadline may take the init first).
  int program_end = 0;
  if (::read(program_status[0], &program_end, sizeof program_end) == static_cast<ssize_t>(sizeof program_end))
    status = program_end;
  ::close(program_status[0]);
  if (stdin_fd >= 0) ::close(stdin_fd);
  if (pidfd >= 0) ::close(pidfd);
  if (listener >= 0) ::close(listener);
  result.wall_us = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - started).count());

  const std::string cg(kCgroup);
  const std::string events = read_text(cg + "/memory.events");
  result.cpu_us = keyed(read_text(cg + "/cpu.stat"), "usage_usec") - cpu_before;
  result.peak_memory_bytes = number(cg + "/memory.peak");
  result.pids_peak = static_cast<std::uint32_t>(number(cg + "/pids.peak"));
  if (out_dir >= 0) {
    // Security: nothing of the program may still write while the tree is read: the cgroup was
    // killed; wait until it is empty (a bounded wait: a kill takes milliseconds).
    if (!cgroup_emptied(std::chrono::seconds(5))) {
      result.output_incomplete = true;
    } else {
      const sys::TreeLimits limits{job.output_max_bytes, job.output_max_entries, job.output_max_depth};
      result.output_incomplete = !send_output_tree(out_dir, limits, send);
    }
    ::close(out_dir);
  }
  result.stdout_truncated = streams[0].truncated;
  result.stderr_truncated = streams[1].truncated;
  end.wait_status = status;
  end.oom_kills = keyed(events, "oom_kill");
  classify_job_end(end, result);
  // A warm job whose hand-off failed: the program was killed before anything of the job ran.
  if (!handoff_failed.empty()) {
    result.outcome = "error";
    result.detail = "hand-off: " + handoff_failed;
  }
  return result;
}

}  // namespace ignite::guest
