// Pipe: a pair of owned pipe ends, CLOEXEC by default.
#pragma once
#include "core/result.hpp"
#include "sys/fd.hpp"

namespace ignite::sys {

struct Pipe {
  Fd read;
  Fd write;
};

// pipe2(O_CLOEXEC | extra_flags). Fails with the errno of pipe2.
Result<Pipe> make_pipe(int extra_flags = 0);

}  // namespace ignite::sys
