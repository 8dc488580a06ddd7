// Resource abuse: every way a program can try to exhaust the host ends inside its own limits.
#include <csignal>

#include "sandbox_fixture.hpp"

namespace ignite::security {
namespace {

using namespace std::chrono_literals;

IGNITE_SECURITY_SUITE(Resources);

TEST_P(Resources, fork_bomb_is_contained_by_pids_limit) {
  IGNITE_REQUIRE_CGROUP("the cgroup pids limit");
  auto spec = probe({"forkbomb"});
  spec.limits.wall_time = 3s;
  auto r = run(spec);
  EXPECT_LE(r.usage.pids_peak, 32u);
  EXPECT_GT(r.usage.pids_peak, 10u);
  EXPECT_TRUE(contains(r.stdout_data, "fork failures: 1000")) << r.stdout_data;
  // The host stays responsive: the next run starts and ends quickly.
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(run(probe({"exit", "0"})).exit_code, 0);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
}

TEST_P(Resources, thread_bomb_is_contained_by_pids_limit) {
  IGNITE_REQUIRE_CGROUP("the cgroup pids limit (threads are tasks)");
  auto r = run(probe({"threads", "10000"}));
  EXPECT_EQ(r.outcome, Outcome::exited) << r.detail;
  EXPECT_TRUE(contains(r.stdout_data, "failures: 100")) << r.stdout_data;
  EXPECT_LE(r.usage.pids_peak, 32u);
}

TEST_P(Resources, heap_memory_bomb_is_killed_at_the_memory_limit) {
  IGNITE_REQUIRE_CGROUP("the cgroup memory limit");
  auto r = run(probe({"alloc", "512"}));
  EXPECT_EQ(r.outcome, Outcome::memory_exceeded) << r.stdout_data << r.detail;
  EXPECT_EQ(status_name(r.outcome, r.exit_code), "memory_limit");
  EXPECT_LE(r.usage.peak_memory_bytes, 65ull << 20);
}

TEST_P(Resources, mmap_memory_bomb_is_killed_at_the_memory_limit) {
  IGNITE_REQUIRE_CGROUP("the cgroup memory limit");
  auto r = run(probe({"mmap", "512"}));
  EXPECT_EQ(r.outcome, Outcome::memory_exceeded) << r.stdout_data << r.detail;
  EXPECT_LE(r.usage.peak_memory_bytes, 65ull << 20);
}

TEST_P(Resources, tmpfs_file_bomb_counts_against_the_memory_limit) {
  IGNITE_REQUIRE_CGROUP("tmpfs pages charged to the memory cgroup");
  // /tmp may hold more than the memory limit: the pages are still charged to the run.
  auto spec = probe({"fill", "/tmp/big", "256"});
  spec.limits.tmp_bytes = 512ull << 20;
  auto r = run(spec);
  EXPECT_NE(r.stdout_data, "wrote 268435456 bytes\n");
  EXPECT_TRUE(r.outcome == Outcome::memory_exceeded || contains(r.stdout_data, "memory"))
      << r.stdout_data << r.detail;
  EXPECT_LE(r.usage.peak_memory_bytes, 65ull << 20);
}

TEST_P(Resources, stack_exhaustion_kills_only_the_program) {
  auto r = run(probe({"stack"}));
  EXPECT_EQ(r.outcome, Outcome::signaled) << r.detail;
  EXPECT_EQ(r.signal, SIGSEGV);
  // The 8 MiB stack rlimit stopped it, not the memory limit.
  if (has_cgroup()) {
    EXPECT_LT(r.usage.peak_memory_bytes, 32ull << 20);
  }
}

TEST_P(Resources, cpu_spin_is_throttled_by_the_cpu_quota) {
  IGNITE_REQUIRE_CGROUP("the cgroup CPU quota");
  auto spec = probe({"spin", "1000", "2"});
  spec.limits.cpu_cores = 0.25;
  auto r = run(spec);
  ASSERT_EQ(r.outcome, Outcome::exited) << r.detail;
  // Two spinning threads for 1 s would use 2 s of CPU; a quarter core allows about 0.25 s.
  EXPECT_LT(r.usage.cpu, 600ms) << r.stdout_data;
  EXPECT_GT(r.usage.cpu, 100ms) << r.stdout_data;
}

TEST_P(Resources, cpu_spin_forever_is_stopped_by_the_wall_clock) {
  auto spec = probe({"spin", "600000"});
  spec.limits.wall_time = 700ms;
  auto t0 = std::chrono::steady_clock::now();
  auto r = run(spec);
  EXPECT_EQ(r.outcome, Outcome::wall_time_exceeded);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
}

TEST_P(Resources, sleep_forever_is_stopped_by_the_wall_clock) {
  auto spec = probe({"sleep", "600000", token()});
  spec.limits.wall_time = 500ms;
  auto r = run(spec);
  EXPECT_EQ(r.outcome, Outcome::wall_time_exceeded);
  EXPECT_EQ(cli_exit_code(r.outcome, r.exit_code, r.signal), 124);
  EXPECT_TRUE(host::processes_with(token()).empty());
}

TEST_P(Resources, a_self_stopped_program_still_times_out) {
  auto spec = probe({"stopself"});
  spec.limits.wall_time = 500ms;
  auto r = run(spec);
  EXPECT_EQ(r.outcome, Outcome::wall_time_exceeded);
  EXPECT_EQ(r.stdout_data, "stopping\n");
}

TEST_P(Resources, a_stopped_child_does_not_outlive_the_run) {
  auto r = run(probe({"stopchild", token()}));
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.stdout_data, "child stopped: 1\n");
  EXPECT_TRUE(host::processes_with(token()).empty());
}

TEST_P(Resources, filling_tmp_stops_at_the_tmpfs_size) {
  auto spec = probe({"fill", "/tmp/fill", "64"});
  spec.limits.tmp_bytes = 8ull << 20;
  auto r = run(spec);
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.stdout_data, "No space left on device")) << r.stdout_data;
}

TEST_P(Resources, inode_exhaustion_stops_at_the_tmpfs_inode_limit) {
  auto r = run(probe({"inodes", "/tmp", "100000"}));
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.stdout_data, "No space left on device")) << r.stdout_data;
  auto created = std::stol(r.stdout_data.substr(r.stdout_data.find(' ') + 1));
  EXPECT_LE(created, 4096);
}

TEST_P(Resources, huge_sparse_file_is_refused_by_the_file_size_limit) {
  auto r = run(probe({"sparse", "/tmp/sparse", "0x10000000000"}));  // 1 TiB apparent size
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(contains(r.stdout_data, "File too large")) << r.stdout_data;
}

TEST_P(Resources, stdout_and_stderr_floods_are_capped_and_flagged) {
  auto spec = probe({"flood", "8000000", "both"});
  spec.limits.max_output_bytes = 1 << 20;
  auto r = run(spec);
  EXPECT_EQ(r.outcome, Outcome::exited) << r.detail;
  EXPECT_EQ(r.stdout_data.size(), 1u << 20);
  EXPECT_EQ(r.stderr_data.size(), 1u << 20);
  EXPECT_TRUE(r.stdout_truncated);
  EXPECT_TRUE(r.stderr_truncated);
}

TEST_P(Resources, zombie_storm_is_bounded_and_reaped) {
  IGNITE_REQUIRE_CGROUP("the cgroup pids limit (zombies hold pids)");
  auto r = run(probe({"zombies", "10000"}));
  EXPECT_TRUE(contains(r.stdout_data, "failures: 100")) << r.stdout_data;
  EXPECT_LE(r.usage.pids_peak, 32u);
  EXPECT_TRUE(host::processes_with(token()).empty());
}

TEST_P(Resources, open_files_are_capped_by_the_nofile_limit) {
  auto r = run(probe({"nofile"}));
  // 256 minus stdin/stdout/stderr.
  EXPECT_EQ(r.stdout_data, "opened 253: Too many open files\n");
}

}  // namespace
}  // namespace ignite::security
