// One descriptor passed over a unix socket (SCM_RIGHTS): how the sandboxed child hands its
// seccomp listener to the supervisor.
#pragma once
#include "sys/fd.hpp"

namespace ignite::sys {

// Sends `fd` with a one-byte message. Stack buffers and one syscall only, so it is safe in the
// sandbox's clone child (no allocation, no locks).
bool send_fd(int sock, int fd) noexcept;

// Takes a descriptor sent by send_fd without blocking (close-on-exec); an invalid Fd if no
// message was pending or it carried none (the sender died first, or sent something else).
Fd receive_fd(int sock) noexcept;

}  // namespace ignite::sys
