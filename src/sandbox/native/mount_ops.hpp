// Executes one step of a mount plan (mount_step.hpp) verbatim. Async-signal-safe: it runs in a
// freshly cloned child (no malloc, no exceptions, no logging), and needs no C++ library (it is
// part of ignite-sandbox-init). Returns 0, or -1 with errno set.
#pragma once
#include "sandbox/native/mount_step.hpp"

namespace ignite::sandbox::native {

int run_mount_op(const MountStep& op) noexcept;

}  // namespace ignite::sandbox::native
