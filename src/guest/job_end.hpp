// How the guest agent judges the end of a job: the outcome it reports, and when a job pinned at
// its memory limit has stopped making progress. Pure (no cgroup, no process): unit-tested on the
// host, compiled into the static agent too.
//
// Why a thrash watch at all: under memory.max with no swap the kernel's OOM killer fires only when
// reclaim frees nothing. A program whose anonymous memory fills its limit leaves the kernel its
// own file pages to reclaim: its interpreter's and libraries' text, read over 9p and charged to
// the job's cgroup. Each reclaim frees one, the program faults it straight back, the next charge
// reclaims the next one: never an OOM, and no progress either. Measured in the microvm under TCG
// with a 48 MiB python memory bomb: anon stuck at 47.8 MiB, ~230 KiB of file pages, 500,000
// file refaults and memory.events "max" 41,000 in 18 s, oom 0, oom_kill 0 — until the wall limit
// ended it as a timeout. Otherwise it ends in an OOM kill within 2-3 s; which of the two happens
// depends on what is resident when the limit is reached: 0 of 4 runs idle, 1 in 6 to 9 in 12 with
// the host loaded (a busy loop, a build on the other core).
#pragma once
#include <cstdint>
#include <optional>

#include "guest/protocol.hpp"

namespace ignite::guest {

// The job cgroup's memory counters, as the agent samples them while the job runs.
struct MemorySample {
  std::uint64_t limit_hits = 0;     // memory.events "max": charges that hit memory.max
  std::uint64_t file_refaults = 0;  // memory.stat "workingset_refault_file": evicted file pages read back
  std::uint64_t file_bytes = 0;     // memory.stat "file": the job's page cache now
};

// The file pages a job may read back after losing them to its own limit before the agent calls
// it thrashing: twice its limit (it has re-read its whole memory twice over without getting
// anywhere), at least 32 MiB so a small limit is not judged on a few pages. A program streaming
// a file larger than its limit once refaults at most that file; the bomb above crosses this
// budget in under a second.
std::uint64_t thrash_budget_pages(std::uint64_t memory_limit_bytes);

// Whether the job is pinned at its memory limit, reclaiming and re-reading its own pages: the
// limit hit, the refaults over the budget, and the page cache squeezed under 1/16 of the limit
// (what cannot be reclaimed fills the rest). A program streaming files through a roomy page cache
// refaults as it re-reads, but keeps its cache: not thrashing, however often it re-reads.
bool thrashing_at_limit(std::uint64_t memory_limit_bytes, const MemorySample& sample);

struct JobEnd {
  std::optional<int> wait_status;         // the program's wait(2) status, once reaped
  bool killed_at_deadline = false;        // the agent killed the cgroup at the wall deadline
  bool oom_kill_before_deadline = false;  // memory.events oom_kill was > 0 when the deadline came
  bool killed_thrashing = false;          // the agent killed the cgroup: thrashing at its limit
  std::uint64_t oom_kills = 0;            // memory.events oom_kill once the program ended
};

// Sets outcome, exit_code, signal and detail. The memory limit wins over the deadline when it
// acted first: an OOM kill before the deadline is the memory limit even if the program's exit
// (tearing down its memory, slow under emulation) is only seen after it.
void classify_job_end(const JobEnd& end, ResultMessage& result);

}  // namespace ignite::guest
