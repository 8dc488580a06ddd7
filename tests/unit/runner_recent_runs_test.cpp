// RecentRuns: the dashboard's table keeps the newest runs, newest first, with their outcome and
// measurements, and nothing of what the program read or printed.
#include <gtest/gtest.h>

#include <regex>

#include "runner/recent_runs.hpp"

namespace ignite::runner {
namespace {

engine::JobReport report(int n, Outcome outcome, int exit_code) {
  engine::JobReport r;
  r.service_name = n % 2 ? "svc" : "";
  r.runtime = "python@3.11.2";
  r.isolation = "native";
  r.result.outcome = outcome;
  r.result.exit_code = exit_code;
  r.result.stdout_data = "secret stdout " + std::to_string(n);
  r.result.usage.wall = std::chrono::microseconds(1500 * n);
  r.result.usage.cpu = std::chrono::microseconds(700);
  r.result.usage.peak_memory_bytes = 4096u * static_cast<unsigned>(n);
  r.cold_start = n % 3 == 0;
  return r;
}

TEST(RecentRuns, keeps_the_newest_runs_newest_first) {
  RecentRuns runs(3);
  for (int n = 1; n <= 5; ++n) runs.record(report(n, n == 4 ? Outcome::wall_time_exceeded : Outcome::exited, n == 5 ? 2 : 0));
  const auto listed = runs.newest_first();
  ASSERT_EQ(listed.size(), 3u);
  EXPECT_EQ(listed[0].seq, 5u);
  EXPECT_EQ(listed[1].seq, 4u);
  EXPECT_EQ(listed[2].seq, 3u);
  EXPECT_EQ(listed[0].status, "runtime_error");
  EXPECT_EQ(listed[1].status, "timeout");
  EXPECT_EQ(listed[2].status, "ok");
  EXPECT_EQ(listed[0].service, "svc");
  EXPECT_EQ(listed[1].service, "");
  EXPECT_DOUBLE_EQ(listed[0].wall_ms, 7.5);
  EXPECT_DOUBLE_EQ(listed[0].cpu_ms, 0.7);
  EXPECT_EQ(listed[0].peak_memory_bytes, 5u * 4096u);
  EXPECT_TRUE(listed[2].cold_start);
  EXPECT_FALSE(listed[0].cold_start);
  EXPECT_TRUE(std::regex_match(listed[0].finished_at,
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")))
      << listed[0].finished_at;
}

TEST(RecentRuns, starts_empty) { EXPECT_TRUE(RecentRuns().newest_first().empty()); }

}  // namespace
}  // namespace ignite::runner
