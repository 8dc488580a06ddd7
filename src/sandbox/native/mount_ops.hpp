// Executes one MountOp (mount_plan.hpp) verbatim. Async-signal-safe: it runs in a freshly
// cloned child (no malloc, no exceptions, no logging). Returns 0, or -1 with errno set.
#pragma once
#include "sandbox/native/mount_plan.hpp"

namespace ignite::sandbox::native {

int run_mount_op(const MountOp& op) noexcept;

}  // namespace ignite::sandbox::native
