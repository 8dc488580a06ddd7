#include "sandbox/native/supervisor.hpp"

#include <fcntl.h>
#include <linux/seccomp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <optional>

#include "sandbox/common/output_capture.hpp"
#include "sys/fd_passing.hpp"
#include "sys/no_sigpipe.hpp"

namespace ignite::sandbox::native {
namespace {

using Clock = std::chrono::steady_clock;

enum Tag : std::uint64_t { kInit, kExec, kOut, kErr, kIn, kCancel, kNotifySock, kListener, kExtra, kReport };

void set_nonblocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

// Drains a non-blocking pipe into its capture. Returns false at EOF (or error).
bool drain(int fd, OutputCapture& capture, const OutputSink& sink) {
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno == EAGAIN;
    if (n == 0) return false;
    capture.append(std::string_view(buf, static_cast<std::size_t>(n)), sink);
  }
}

// Reads one pending notification: which call a `kill` rule caught. nullopt if none is pending
// (the caller died meanwhile: the kernel drops its notification).
std::optional<BlockedCall> receive_notification(int listener) {
  seccomp_notif req;
  std::memset(&req, 0, sizeof req);  // the kernel insists on a zeroed buffer
  if (::ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) != 0) return std::nullopt;
  return BlockedCall{req.data.nr, req.data.arch};
}

class Epoll {
 public:
  Epoll() : fd_(::epoll_create1(EPOLL_CLOEXEC)) {}
  bool ok() const { return static_cast<bool>(fd_); }
  void add(int fd, std::uint32_t events, Tag tag) {
    epoll_event ev{};
    ev.events = events;
    ev.data.u64 = tag;
    ::epoll_ctl(fd_.get(), EPOLL_CTL_ADD, fd, &ev);
  }
  void remove(int fd) { ::epoll_ctl(fd_.get(), EPOLL_CTL_DEL, fd, nullptr); }
  int wait(epoll_event* evs, int n, int timeout_ms) {
    return ::epoll_wait(fd_.get(), evs, n, timeout_ms);
  }

 private:
  sys::Fd fd_;
};

}  // namespace

bool read_reports(int fd, std::vector<ChildReport>& out) {
  for (;;) {
    ChildReport r;
    ssize_t n = ::read(fd, &r, sizeof r);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return errno == EAGAIN;
    if (n != static_cast<ssize_t>(sizeof r)) return false;
    out.push_back(r);
  }
}

Result<Supervision> supervise(SupervisedFds fds, const std::string& stdin_data,
                              const SupervisionLimits& limits, std::stop_token stop,
                              const OutputSink& sink) {
  Supervision s;
  Epoll ep;
  sys::Fd cancel(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!ep.ok() || !cancel) return fail(Error::from_errno("epoll/eventfd"));
  // The stop callback may run on another thread: it only pokes the eventfd.
  std::stop_callback on_stop(stop, [&] {
    std::uint64_t one = 1;
    (void)!::write(cancel.get(), &one, sizeof one);
  });

  OutputCapture out(Stream::out, limits.max_output_bytes, s.stdout_data, s.stdout_truncated);
  OutputCapture err(Stream::err, limits.max_output_bytes, s.stderr_data, s.stderr_truncated);
  for (int fd : {fds.stdout_read.get(), fds.stderr_read.get(), fds.stdin_write.get(), fds.report_read.get()}) {
    if (fd >= 0) set_nonblocking(fd);
  }
  if (fds.report_read) ep.add(fds.report_read.get(), EPOLLIN, kReport);
  ep.add(fds.init->pidfd(), EPOLLIN, kInit);
  if (fds.exec_read) ep.add(fds.exec_read.get(), EPOLLIN, kExec);
  ep.add(fds.stdout_read.get(), EPOLLIN, kOut);
  ep.add(fds.stderr_read.get(), EPOLLIN, kErr);
  ep.add(cancel.get(), EPOLLIN, kCancel);
  if (fds.notify_read) ep.add(fds.notify_read.get(), EPOLLIN, kNotifySock);
  if (fds.extra) ep.add(fds.extra->fd(), EPOLLIN, kExtra);
  sys::Fd listener;
  std::size_t stdin_off = 0;
  if (fds.stdin_write && !stdin_data.empty()) {
    ep.add(fds.stdin_write.get(), EPOLLOUT, kIn);
  } else {
    fds.stdin_write.reset();  // EOF right away
  }

  const auto start = Clock::now();
  auto deadline = start + limits.setup_time;
  auto next_watch = Clock::time_point::max();  // the thrash watch's next sample, once the program runs
  auto program_started = [&](Clock::time_point at) {
    s.exec_seen = true;
    s.exec_at = at;
    deadline = at + limits.wall_time;
    if (fds.thrash) next_watch = at + kThrashWatchEvery;
  };
  if (!fds.exec_read) program_started(start);  // a warm slot's program is running already: its clock starts now
  bool killed = false;
  auto kill_with = [&](StopReason why) {
    if (killed) return;
    killed = true;
    s.reason = why;
    if (fds.before_kill) fds.before_kill();
    // SIGKILL to the namespace's init takes every process of the sandbox with it.
    (void)fds.init->send_signal(SIGKILL);
  };

  bool init_alive = true, out_open = true, err_open = true, program_done = false;
  while (init_alive && !(program_done && !out_open && !err_open)) {
    auto now = Clock::now();
    int timeout = -1;
    if (!killed) {
      if (now >= deadline) {
        kill_with(s.exec_seen ? StopReason::timeout : StopReason::setup_timeout);
        continue;
      }
      if (now >= next_watch) {
        next_watch = now + kThrashWatchEvery;
        if (fds.thrash->thrashing()) {
          kill_with(StopReason::memory_thrash);
          continue;
        }
      }
      auto left = std::chrono::ceil<std::chrono::milliseconds>(std::min(deadline, next_watch) - now).count();
      timeout = static_cast<int>(left);
    }
    epoll_event evs[8];
    int n = ep.wait(evs, 8, timeout);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(Error::from_errno("epoll_wait"));
    for (int i = 0; i < n; ++i) {
      switch (evs[i].data.u64) {
        case kInit:
          if (!program_done) s.exit_at = Clock::now();
          init_alive = false;
          s.init_exited = true;
          break;
        case kReport:
          if (!read_reports(fds.report_read.get(), s.reports)) ep.remove(fds.report_read.get());
          if (!program_done && !s.reports.empty() && s.reports.back().stage == ChildStage::finished) {
            program_done = true;
            s.exit_at = Clock::now();
          }
          break;
        case kExec:
          // EOF: the program's copy of the CLOEXEC pipe closed at execve (or it died first).
          program_started(Clock::now());
          ep.remove(fds.exec_read.get());
          break;
        case kOut:
          if (!drain(fds.stdout_read.get(), out, sink)) {
            ep.remove(fds.stdout_read.get());
            out_open = false;
          }
          break;
        case kErr:
          if (!drain(fds.stderr_read.get(), err, sink)) {
            ep.remove(fds.stderr_read.get());
            err_open = false;
          }
          break;
        case kIn: {
          sys::NoSigpipe no_sigpipe;  // the program may be gone without reading its stdin
          ssize_t w = ::write(fds.stdin_write.get(), stdin_data.data() + stdin_off,
                              stdin_data.size() - stdin_off);
          if (w > 0) stdin_off += static_cast<std::size_t>(w);
          if ((w < 0 && errno != EAGAIN && errno != EINTR) || stdin_off == stdin_data.size()) {
            ep.remove(fds.stdin_write.get());
            fds.stdin_write.reset();
          }
          break;
        }
        case kCancel:
          kill_with(StopReason::cancelled);
          break;
        case kExtra:
          fds.extra->service();
          break;
        case kNotifySock:
          // One message, before execve: the listener of the program's seccomp filter.
          listener = sys::receive_fd(fds.notify_read.get());
          ep.remove(fds.notify_read.get());
          if (listener) ep.add(listener.get(), EPOLLIN, kListener);
          break;
        case kListener:
          // Security: a `kill` rule matched. The call is suspended in the kernel and never
          // runs; we record which it was and end the sandbox. We do not answer the
          // notification (answering would let the program go on); the SIGKILL to init tears
          // the whole namespace down, the suspended caller included.
          if (!killed && (evs[i].events & EPOLLIN)) {
            if (auto call = receive_notification(listener.get())) {
              s.blocked = call;
              kill_with(StopReason::syscall_blocked);
            }
          }
          if (killed || (evs[i].events & (EPOLLHUP | EPOLLERR))) ep.remove(listener.get());
          break;
      }
    }
  }
  // Init is gone, and with it every process of the namespace (or the program is, and both pipes
  // are at EOF): the pipes hold their last bytes.
  drain(fds.stdout_read.get(), out, sink);
  drain(fds.stderr_read.get(), err, sink);
  if (s.init_exited && fds.report_read) read_reports(fds.report_read.get(), s.reports);
  return s;
}

}  // namespace ignite::sandbox::native
