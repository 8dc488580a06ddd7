// clone3(2) with a stack of the caller's choosing, which glibc does not export: the child starts
// in `fn(arg)` on that stack instead of returning from the syscall onto the parent's. This is
// what a CLONE_VM child needs (it shares the parent's memory, so it cannot reuse the stack the
// parent will return on) while still taking clone3's arguments (CLONE_INTO_CGROUP, CLONE_PIDFD
// with the namespace flags).
#pragma once
#include <linux/sched.h>

namespace ignite::sys {

// The child's pid in the parent, or -errno. `args->stack` and `args->stack_size` must be set;
// `fn` must not return into anything (it execs or _exits; a return exits with its value).
long clone3_on_stack(clone_args* args, int (*fn)(void*), void* arg) noexcept;

// A system call that returns -errno and never writes errno. A CLONE_VM child that runs beside
// its parent (no CLONE_VFORK) shares the parent thread's TLS, errno included: it must use this.
long raw_syscall(long nr, long a1 = 0, long a2 = 0, long a3 = 0, long a4 = 0, long a5 = 0, long a6 = 0) noexcept;

}  // namespace ignite::sys
