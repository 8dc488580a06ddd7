// What the sandbox's init hands the supervisor after building the root (ChildArgs::handover_fd):
// the output dir, which outlives the sandbox through its fd, and the egress proxy's listening
// socket inside the sandbox's network namespace.
#pragma once
#include <chrono>

#include "sys/child_process.hpp"
#include "sys/fd.hpp"

namespace ignite::sandbox::native {

struct Handover {
  sys::Fd out_dir;          // O_PATH fd of the output dir (SandboxSpec::output)
  sys::Fd egress_listener;  // listening TCP socket at 127.0.0.1:<port> in the sandbox
};

// Waits for the fds init sends, in that order, until they arrived, init exited or `timeout`
// passed. Whatever did not arrive stays invalid: init then failed its setup, and says why on
// the report pipe.
Handover receive_handover(int sock, const sys::ChildProcess& init, bool want_out_dir,
                          bool want_egress, std::chrono::milliseconds timeout);

}  // namespace ignite::sandbox::native
