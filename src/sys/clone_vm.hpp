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

}  // namespace ignite::sys
