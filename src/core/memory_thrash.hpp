// When a run pinned at its memory limit has stopped making progress: the judgement every backend
// that runs a program under a cgroup memory limit makes (native and docker on this kernel, the
// microvm's guest agent in its own). Pure apart from the counters a ThrashWatch is given.
//
// Why a thrash watch at all: under a memory limit with no swap the kernel's OOM killer fires only
// when reclaim frees nothing. A program whose anonymous memory fills its limit leaves the kernel
// its own file pages to reclaim: its interpreter's and libraries' text, charged to the run's
// cgroup. Each reclaim frees one, the program faults it straight back, the next charge reclaims
// the next one: never an OOM kill, and no progress either, until the wall limit ends it as a
// timeout. The slower a refault (9p under emulation, a cold disk), the longer this lasts:
// - microvm under TCG, 48 MiB python bomb: anon stuck at 47.8 MiB, ~230 KiB of file pages,
//   500,000 file refaults and 41,000 limit hits in 18 s, no OOM kill (0 of 4 runs idle, 1 in 6
//   to 9 in 12 with the host loaded);
// - native, rootless, cgroup v2 guest (root over 9p), 96 MiB node bomb (Buffer.alloc): anon
//   95 MiB, 0.9 MiB of file pages, 105,000 refaults and 9,700 limit hits in 3 s; most runs end
//   in an OOM kill after 3-4 s, one in CI ran into its 10 s wall limit.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

namespace ignite {

// A run's cgroup memory counters.
struct MemorySample {
  std::uint64_t limit_hits = 0;     // charges that hit the limit (v2 memory.events "max"; v1: cgroup.cpp)
  std::uint64_t file_refaults = 0;  // memory.stat "workingset_refault_file": evicted file pages read back
  std::uint64_t file_bytes = 0;     // the run's evictable page cache now: evictable_file_bytes()
};

// The page cache reclaim can still take from a run: memory.stat's "file" (v1: "cache") minus its
// "shmem". tmpfs pages count as file pages there, yet without swap nothing evicts them: a run
// that filled its /out or /tmp to the limit has a large "file" and no room at all (measured: a
// 200 MiB write to /out under a 48 MiB limit held ~45 MiB of shmem and timed out thrashing).
constexpr std::uint64_t evictable_file_bytes(std::uint64_t file, std::uint64_t shmem) {
  return file > shmem ? file - shmem : 0;
}

// The detail of a result whose run was killed thrashing (outcome memory_exceeded).
inline constexpr std::string_view kThrashKillDetail =
    "memory limit exceeded (killed while thrashing at the limit: no progress, no OOM kill)";

// How often a run at risk is sampled: a thrashing run crosses its budget in about a second.
inline constexpr std::chrono::milliseconds kThrashWatchEvery{100};

// The file pages a run may read back after losing them to its own limit before it counts as
// thrashing: twice its limit (it has re-read its whole memory twice over without getting
// anywhere), at least 32 MiB so a small limit is not judged on a few pages. A program streaming
// a file larger than its limit once refaults at most that file; the bombs above cross this
// budget in about a second.
std::uint64_t thrash_budget_pages(std::uint64_t memory_limit_bytes);

// Whether the run is pinned at its memory limit, reclaiming and re-reading its own pages: the
// limit hit, the refaults over the budget, and the page cache squeezed under 1/16 of the limit
// (what cannot be reclaimed fills the rest). A program streaming files through a roomy page cache
// refaults as it re-reads, but keeps its cache: not thrashing, however often it re-reads.
bool thrashing_at_limit(std::uint64_t memory_limit_bytes, const MemorySample& sample);

// Samples one run's counters and judges them, counting from its first sample (a warm slot's
// cgroup has counted its runtime's start-up too). memory.stat is read only when the limit was
// hit since the last sample, so a run far from its limit costs one small read per sample.
class ThrashWatch {
 public:
  using Hits = std::function<std::uint64_t()>;  // limit_hits now
  using Stat = std::function<MemorySample()>;   // file_refaults and file_bytes now
  ThrashWatch(std::uint64_t memory_limit_bytes, Hits hits, Stat stat);

  bool thrashing();

 private:
  std::uint64_t limit_;
  Hits hits_;
  Stat stat_;
  std::optional<std::uint64_t> base_hits_;  // at the first sample
  std::uint64_t last_hits_ = 0;
  std::optional<std::uint64_t> base_refaults_;  // at the first limit hit seen
  MemorySample last_;                           // since the start
};

}  // namespace ignite
