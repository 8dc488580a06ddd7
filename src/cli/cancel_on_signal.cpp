#include "cli/cancel_on_signal.hpp"

#include <poll.h>
#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

#include "cli/common.hpp"
#include "cli/out_dir.hpp"

namespace ignite::cli {
namespace {

sigset_t cancel_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : {SIGTERM, SIGINT, SIGHUP}) sigaddset(&set, sig);
  return set;
}

}  // namespace

Result<std::unique_ptr<CancelOnSignal>> CancelOnSignal::start() {
  // Blocked, so the signals wait in the signalfd instead of killing us; threads inherit the mask.
  // The sandbox's program starts with an empty mask (child.cpp resets it).
  const sigset_t set = cancel_signals();
  if (int err = ::pthread_sigmask(SIG_BLOCK, &set, nullptr); err != 0)
    return fail(Error::from_errno("block SIGTERM/SIGINT/SIGHUP", err));
  sys::Fd signals(::signalfd(-1, &set, SFD_CLOEXEC));
  if (!signals) return fail(Error::from_errno("signalfd"));
  sys::Fd wake(::eventfd(0, EFD_CLOEXEC));
  if (!wake) return fail(Error::from_errno("eventfd"));
  std::unique_ptr<CancelOnSignal> c(new CancelOnSignal(std::move(signals), std::move(wake)));
  // Not waited for: a signal that comes before the thread runs waits in the signalfd. (The
  // thread starts before the spare sandbox init, but may still wait for a CPU while that init
  // executes on the other core, and we would with it.)
  c->thread_ = std::thread([self = c.get()] { self->watch(); });
  return c;
}

CancelOnSignal::CancelOnSignal(sys::Fd signals, sys::Fd wake)
    : signals_(std::move(signals)), wake_(std::move(wake)) {}

CancelOnSignal::~CancelOnSignal() {
  const std::uint64_t one = 1;
  (void)!::write(wake_.get(), &one, sizeof one);
  if (thread_.joinable()) thread_.join();
}

// The first signal cancels; later ones find the run already stopping and change nothing (the
// cleanup they would interrupt takes milliseconds; SIGKILL remains for the impatient, and the
// sandbox dies with us then too, see child.cpp).
void CancelOnSignal::watch() {
  pollfd fds[2] = {{signals_.get(), POLLIN, 0}, {wake_.get(), POLLIN, 0}};
  for (;;) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents) return;
    signalfd_siginfo info{};
    if (::read(signals_.get(), &info, sizeof info) != static_cast<ssize_t>(sizeof info)) continue;
    int none = 0;
    if (signal_.compare_exchange_strong(none, static_cast<int>(info.ssi_signo)))
      stop_.request_stop();
  }
}

int finish_run(const Result<engine::JobReport>& report, const CancelOnSignal& cancel, bool json,
               const std::string& out_dir) {
  const int sig = cancel.signal();
  if (sig && (!report || report->result.outcome == Outcome::cancelled)) {
    if (json && report) (void)emit_report(*report, true);
    const char* abbrev = ::sigabbrev_np(sig);
    std::fprintf(stderr, "ignite: cancelled by SIG%s\n",
                 abbrev ? abbrev : std::to_string(sig).c_str());
    return 128 + sig;
  }
  if (!report) return report_error(report.error());
  if (!out_dir.empty()) {
    if (auto written = write_out_dir(*report, out_dir); !written) return report_error(written.error());
  }
  return emit_report(*report, json, out_dir);
}

}  // namespace ignite::cli
