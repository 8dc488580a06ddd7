// One descriptor passed over a unix socket (SCM_RIGHTS): how the sandboxed child hands its
// seccomp listener to the supervisor. Sending is in fd_send.hpp.
#pragma once
#include "sys/fd.hpp"
#include "sys/fd_send.hpp"

namespace ignite::sys {

// Takes a descriptor sent by send_fd without blocking (close-on-exec); an invalid Fd if no
// message was pending or it carried none (the sender died first, or sent something else).
Fd receive_fd(int sock) noexcept;

}  // namespace ignite::sys
