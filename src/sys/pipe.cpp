#include "sys/pipe.hpp"

#include <fcntl.h>
#include <unistd.h>

namespace ignite::sys {

Result<Pipe> make_pipe(int extra_flags) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC | extra_flags) != 0) return fail(Error::from_errno("pipe2"));
  return Pipe{Fd(fds[0]), Fd(fds[1])};
}

}  // namespace ignite::sys
