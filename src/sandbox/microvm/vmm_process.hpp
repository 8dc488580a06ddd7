// QEMU's process: spawned for a VmPlan with the VM's share assembled in a mount namespace of its
// own, and the sockets it listens on reached once they are there.
#pragma once
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "sandbox/microvm/vm_image.hpp"
#include "sys/child_process.hpp"
#include "sys/fd.hpp"

namespace ignite::sandbox::microvm {

using Deadline = std::chrono::steady_clock::time_point;

// fork + exec of QEMU (qemu_argv(plan)) with its stdio on /dev/null and plan.console. The child
// dies with the thread that started it (PDEATHSIG), so a killed Ignite leaves no VM running.
// Before the exec it assembles the share in a mount namespace of its own: a tmpfs on plan.share
// with each entry bound read-only at <share>/<name>, seen by this QEMU alone (nothing
// propagates to the host). plan.share must exist.
Result<sys::ChildProcess> spawn_qemu(const VmPlan& plan, const std::vector<ShareEntry>& entries);

// Connects to a socket QEMU listens on (server=on,wait=off) once it is there; QEMU's exit or the
// deadline ends the wait (unavailable).
Result<sys::Fd> connect_when_listening(const std::filesystem::path& socket, const sys::ChildProcess& qemu,
                                       Deadline deadline);

// The console log's tail, for the log only (it holds QEMU's errors, with host paths).
std::string console_tail(const std::filesystem::path& log);

}  // namespace ignite::sandbox::microvm
