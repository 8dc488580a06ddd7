// The VMM's process (and the share image's builder): spawned with the VM's share assembled in a
// mount namespace of its own, and the sockets it listens on reached once they are there.
#pragma once
#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "sandbox/microvm/vm_image.hpp"
#include "sandbox/microvm/vmm_jail.hpp"
#include "sys/child_process.hpp"
#include "sys/fd.hpp"

namespace ignite::sandbox::microvm {

using Deadline = std::chrono::steady_clock::time_point;

// fork + exec of `argv` with its stdin on /dev/null (or `stdin_fd`) and its stdout and stderr
// appended to `log`.
// The child dies with the thread that started it (PDEATHSIG), so a killed Ignite leaves no VM
// running. Before the exec it assembles the share in a mount namespace of its own: a tmpfs on
// `share` with each entry bound read-only at <share>/<name>, seen by this child alone (nothing
// propagates to the host). `share` must exist; empty: no share (then `entries` must be empty too).
// With a jail (vmm_jail.hpp), it also gets the jail's files as its descriptors 3, 4, ... (the
// jail keeps no copy after this), and, when the jail is active, joins the jail's cgroup, takes
// the VM's dir as its cwd, gets empty network and IPC
// namespaces and a root of its own (vmm_root.hpp: its dir and the system's program dirs), and drops to the jail's uid (no capabilities, no_new_privs) just before the exec.
Result<sys::ChildProcess> spawn_with_share(std::vector<std::string> argv, const std::filesystem::path& log,
                                           const std::filesystem::path& share, const std::vector<ShareEntry>& entries,
                                           VmmJail* jail = nullptr, int stdin_fd = -1);

// A helper of the VMM's (passt) spawned that way without a share or a jail: `files` become its
// descriptors 3, 4, ... (the caller keeps and closes its own copies).
Result<sys::ChildProcess> spawn_passing(std::vector<std::string> argv, const std::filesystem::path& log,
                                        const std::vector<int>& files);

// QEMU (qemu_argv(plan, jail)) that way, its console log and share the plan's, in `jail` (whose
// files are the child's after this).
Result<sys::ChildProcess> spawn_qemu(const VmPlan& plan, const std::vector<ShareEntry>& entries, VmmJail& jail);

// Connects to a socket the VMM listens on (QEMU's server=on,wait=off; Firecracker's API) once it
// is there; the VMM's exit or the deadline ends the wait (unavailable).
Result<sys::Fd> connect_when_listening(const std::filesystem::path& socket, const sys::ChildProcess& vmm,
                                       Deadline deadline);

// The VMM's resident memory now (/proc/<pid>/statm), for a pool's budget; 0 when unreadable.
std::uint64_t vmm_resident_bytes(pid_t pid);

// The console log's tail, for the log only (it holds QEMU's errors, with host paths).
std::string console_tail(const std::filesystem::path& log);

// Waits for an image builder spawn_with_share started (`tool`: mksquashfs, sqfstar) to make
// `product` before `deadline` (past it: `unavailable`, and the builder dies when dropped). A
// failed build is `unavailable` with its exit status; its output, which names host paths, goes
// to the log only.
Status await_builder(sys::ChildProcess builder, const std::filesystem::path& log, std::string_view tool,
                     std::string_view product, Deadline deadline);

}  // namespace ignite::sandbox::microvm
