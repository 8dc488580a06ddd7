// NoSigpipe: while it lives, a write to a pipe whose reader is gone fails with EPIPE instead of
// killing the process with SIGPIPE, whatever the process's disposition is (the CLI ignores
// SIGPIPE, but a library must not count on its host). Per thread: SIGPIPE for a write is sent
// to the writing thread, so blocking it here and taking any pending one before unblocking
// leaves every other thread as it was.
#pragma once
#include <signal.h>

#include <ctime>

namespace ignite::sys {

class NoSigpipe {
 public:
  NoSigpipe() {
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    sigpending(&before_);
    ::pthread_sigmask(SIG_BLOCK, &pipe, &old_);
  }
  ~NoSigpipe() {
    sigset_t pending;
    sigpending(&pending);
    if (sigismember(&pending, SIGPIPE) && !sigismember(&before_, SIGPIPE)) {
      sigset_t pipe;
      sigemptyset(&pipe);
      sigaddset(&pipe, SIGPIPE);
      const timespec now{0, 0};
      while (::sigtimedwait(&pipe, nullptr, &now) == SIGPIPE) {
      }
    }
    ::pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  NoSigpipe(const NoSigpipe&) = delete;
  NoSigpipe& operator=(const NoSigpipe&) = delete;

 private:
  sigset_t old_, before_;
};

}  // namespace ignite::sys
