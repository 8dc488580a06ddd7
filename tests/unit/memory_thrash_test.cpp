// When a run pinned at its memory limit is thrashing (src/core/memory_thrash.hpp). The samples
// are measured ones: the microvm's under TCG with the 48 MiB python memory bomb, and the native
// backend's in the cgroup v2 guest with the 96 MiB node bomb.
#include "core/memory_thrash.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <vector>

namespace ignite {
namespace {

constexpr std::uint64_t kMiB = 1ull << 20;

TEST(MemoryThrash, the_thrash_budget_is_twice_the_limit_with_a_floor_and_does_not_wrap) {
  EXPECT_EQ(thrash_budget_pages(48 * kMiB), 2 * (48 * kMiB / 4096));
  EXPECT_EQ(thrash_budget_pages(4 * kMiB), 32 * kMiB / 4096);  // the floor
  EXPECT_EQ(thrash_budget_pages(0), 32 * kMiB / 4096);
  EXPECT_EQ(thrash_budget_pages(UINT64_MAX), UINT64_MAX / 4096 * 2);  // huge, not wrapped small
}

TEST(MemoryThrash, the_measured_livelock_is_thrashing_and_the_measured_oom_path_is_not) {
  // 18 s into the run that ended as a timeout: limit hit 41,012 times, 503,808 file refaults,
  // 168 KiB of page cache left (anon 47.8 MiB).
  EXPECT_TRUE(thrashing_at_limit(48 * kMiB, {41012, 503808, 172032}));
  // A run the kernel OOM-killed: 83 limit hits, no page read back.
  EXPECT_FALSE(thrashing_at_limit(48 * kMiB, {83, 0, 0}));
  // The budget's edge: more than twice the limit, not equal.
  const auto budget = thrash_budget_pages(48 * kMiB);
  EXPECT_FALSE(thrashing_at_limit(48 * kMiB, {1, budget, 0}));
  EXPECT_TRUE(thrashing_at_limit(48 * kMiB, {1, budget + 1, 0}));
  // Refaults without the limit ever hit are the VM's global reclaim, not the job's limit.
  EXPECT_FALSE(thrashing_at_limit(48 * kMiB, {0, 10 * budget, 0}));
  // A bigger limit needs more: the same refaults are not thrashing under 1 GiB.
  EXPECT_FALSE(thrashing_at_limit(1024 * kMiB, {41012, 503808, 172032}));
}

TEST(MemoryThrash, a_program_rereading_files_through_a_roomy_page_cache_is_not_thrashing) {
  // Small anon, a big input read over and over: refaults pile up, but the job keeps its cache.
  const auto budget = thrash_budget_pages(48 * kMiB);
  EXPECT_FALSE(thrashing_at_limit(48 * kMiB, {5000, 10 * budget, 40 * kMiB}));
  // The squeeze is the sign: under 1/16 of the limit (3 MiB of 48) it is thrashing.
  EXPECT_FALSE(thrashing_at_limit(48 * kMiB, {5000, 10 * budget, 3 * kMiB}));
  EXPECT_TRUE(thrashing_at_limit(48 * kMiB, {5000, 10 * budget, 3 * kMiB - 4096}));
}

// The counters a watch reads, one sample per thrashing() call.
struct Counters {
  std::vector<MemorySample> samples;
  std::size_t at = 0;
  int stat_reads = 0;
  const MemorySample& now() const { return samples[std::min(at, samples.size() - 1)]; }
};

ThrashWatch watching(std::uint64_t limit, Counters& c) {
  return ThrashWatch(
      limit, [&c] { return c.now().limit_hits; },
      [&c] {
        ++c.stat_reads;
        return c.now();
      });
}

TEST(MemoryThrash, a_watch_counts_from_its_first_sample_and_reads_memory_stat_only_after_new_limit_hits) {
  // A warm slot's cgroup: its runtime's start-up hit the limit 500 times and refaulted a lot.
  const std::uint64_t limit = 96 * kMiB;
  const std::uint64_t budget = thrash_budget_pages(limit);
  Counters c{{{500, 10 * budget, 1 * kMiB},     // the start
              {500, 10 * budget, 1 * kMiB},     // nothing new: not thrashing, memory.stat unread
              {560, 10 * budget, 1 * kMiB},     // the limit hit again: the refault baseline
              {9000, 11 * budget, 900 * 1024},  // the budget since that baseline, not over it
              {9900, 11 * budget + 1, 900 * 1024}}};
  ThrashWatch w = watching(limit, c);
  EXPECT_FALSE(w.thrashing());  // the first sample: the baseline
  c.at = 1;
  EXPECT_FALSE(w.thrashing());
  EXPECT_EQ(c.stat_reads, 0);
  c.at = 2;
  EXPECT_FALSE(w.thrashing());
  EXPECT_EQ(c.stat_reads, 1);
  c.at = 3;
  EXPECT_FALSE(w.thrashing()) << "exactly the budget since the first hit is not over it";
  c.at = 4;
  EXPECT_TRUE(w.thrashing());
  EXPECT_EQ(c.stat_reads, 3);
  // The judgement stands while the counters do not move: no more reads of memory.stat.
  EXPECT_TRUE(w.thrashing());
  EXPECT_EQ(c.stat_reads, 3);
}

TEST(MemoryThrash, the_native_node_bomb_is_thrashing_within_a_second_or_two) {
  // Samples one second apart from the cgroup v2 guest (rootless, delegated): node's 1 MiB
  // Buffer.alloc loop at its 96 MiB limit, the run that reached its wall limit in CI.
  const std::uint64_t limit = 96 * kMiB;
  Counters c{{{0, 0, 10022912},  // start-up: under the limit
              {1488, 22597, 929792},
              {5460, 62853, 929792},
              {9665, 105630, 929792}}};
  ThrashWatch w = watching(limit, c);
  EXPECT_FALSE(w.thrashing());  // the first sample: the baseline
  c.at = 1;
  EXPECT_FALSE(w.thrashing());
  c.at = 2;
  EXPECT_FALSE(w.thrashing()) << "40,000 refaults since the first hit: under twice 96 MiB";
  c.at = 3;
  EXPECT_TRUE(w.thrashing()) << "83,000: over it, with 0.9 MiB of page cache left";
}

// tmpfs pages (a run's /out or /tmp) are "file" in memory.stat, yet without swap no reclaim evicts
// them: a run that filled its /out to the limit has no page cache to spare, however big "file" is.
TEST(MemoryThrash, tmpfs_pages_are_not_page_cache_reclaim_can_take) {
  EXPECT_EQ(evictable_file_bytes(46 * kMiB, 45 * kMiB), 1 * kMiB);
  EXPECT_EQ(evictable_file_bytes(10 * kMiB, 0), 10 * kMiB);
  EXPECT_EQ(evictable_file_bytes(1 * kMiB, 2 * kMiB), 0u);  // two reads apart: never wraps
  const auto budget = thrash_budget_pages(48 * kMiB);
  EXPECT_FALSE(thrashing_at_limit(48 * kMiB, {100, budget + 1, 46 * kMiB})) << "file counted whole";
  EXPECT_TRUE(thrashing_at_limit(48 * kMiB, {100, budget + 1, evictable_file_bytes(46 * kMiB, 45 * kMiB)}));
}

TEST(MemoryThrash, no_limit_is_never_thrashing) {
  Counters c{{{0, 0, 0}, {100000, 1000000, 0}}};
  ThrashWatch w = watching(0, c);
  c.at = 1;
  EXPECT_FALSE(w.thrashing());
}

}  // namespace
}  // namespace ignite
