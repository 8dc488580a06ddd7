// CancelOnSignal: SIGTERM, SIGINT and SIGHUP to `ignite run`/`ignite exec` cancel the run in
// progress instead of killing Ignite in the middle of it, so the run ends the way every run ends:
// the sandbox killed, its cgroup and scratch dir removed (RAII), and an exit code that says why.
#pragma once
#include <atomic>
#include <memory>
#include <stop_token>
#include <thread>

#include "core/result.hpp"
#include "engine/engine.hpp"
#include "sys/fd.hpp"

namespace ignite::cli {

class CancelOnSignal {
 public:
  // Blocks the signals in the calling thread (and so in every thread it starts later) and starts
  // the one thread that receives them. Call it before anything can spawn a sandbox (a spare
  // init included), so that no run can be started that a signal would not cancel; returns
  // without waiting for the thread to run (a signal that comes first waits in the signalfd).
  // Fails if the signalfd or eventfd cannot be made.
  static Result<std::unique_ptr<CancelOnSignal>> start();
  ~CancelOnSignal();  // stops the thread; the signals stay blocked until the process exits

  // Stopped by the first of the signals.
  std::stop_token token() const { return stop_.get_token(); }
  // That signal, or 0.
  int signal() const { return signal_.load(); }

  CancelOnSignal(const CancelOnSignal&) = delete;
  CancelOnSignal& operator=(const CancelOnSignal&) = delete;

 private:
  CancelOnSignal(sys::Fd signals, sys::Fd wake);
  void watch();

  sys::Fd signals_, wake_;  // signalfd; eventfd that ends watch()
  std::stop_source stop_;
  std::atomic<int> signal_{0};
  std::thread thread_;
};

// How `ignite run`/`exec` end, returning the exit code. A run the signal cancelled (a cancelled
// build step comes back as an error, a cancelled program as a report) prints the result document
// with --json when there is one and "ignite: cancelled by SIGTERM" on stderr, and exits with
// 128 + the signal (130 for SIGINT, 143 for SIGTERM), like a shell's killed job. Otherwise:
// report_error (125) or emit_report.
// `out_dir`: --out DIR, where the files the program left in /out are written first ("": none).
int finish_run(const Result<engine::JobReport>& report, const CancelOnSignal& cancel, bool json,
               const std::string& out_dir = "");

}  // namespace ignite::cli
