// Runs the one job inside the guest: a cgroup v2 of its own (memory, pids, CPU), the chroot
// into the job's root as an unprivileged uid with rlimits and no_new_privs, stdin fed, stdout
// and stderr streamed to the host as frames (each capped), the wall-clock limit enforced with
// cgroup.kill, and the usage read from the cgroup. A warm job's program starts first and waits
// (idle) for the host's handoff frame: its files, its stdin.
#pragma once
#include <functional>
#include <string>

#include "guest/host_link.hpp"
#include "guest/protocol.hpp"

namespace ignite::guest {

// Sends one frame to the host; false once the channel is gone.
using Send = std::function<bool(const std::string& frame)>;

// `host`: read by a warm job for its hand-off (what its reader holds already is read first).
ResultMessage run_job(const JobMessage& job, const Send& send, HostChannel host = {});

}  // namespace ignite::guest
