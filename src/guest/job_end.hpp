// How the guest agent judges the end of a job: the outcome it reports. Pure (no cgroup, no
// process): unit-tested on the host, compiled into the static agent too. When a job pinned at its
// memory limit has stopped making progress is core/memory_thrash.hpp's judgement, shared with the
// native and docker backends.
#pragma once
#include <cstdint>
#include <optional>
#include <utility>

#include "guest/protocol.hpp"

namespace ignite::guest {

struct JobEnd {
  std::optional<int> wait_status;         // the program's wait(2) status, once reaped
  bool killed_at_deadline = false;        // the agent killed the cgroup at the wall deadline
  bool oom_kill_before_deadline = false;  // memory.events oom_kill was > 0 when the deadline came
  bool killed_thrashing = false;          // the agent killed the cgroup: thrashing at its limit
  std::uint64_t oom_kills = 0;            // memory.events oom_kill once the program ended
  // The agent killed the job for a call a kill rule stopped (seccomp_data's nr, AUDIT_ARCH_*).
  std::optional<std::pair<int, std::uint32_t>> blocked = std::nullopt;
};

// Sets outcome, exit_code, signal and detail (and the blocked call). A blocked call wins: the
// agent killed the job for it, whatever the kill then looked like. The memory limit wins over the deadline when it
// acted first: an OOM kill before the deadline is the memory limit even if the program's exit
// (tearing down its memory, slow under emulation) is only seen after it.
void classify_job_end(const JobEnd& end, ResultMessage& result);

}  // namespace ignite::guest
