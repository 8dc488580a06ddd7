#include "runner/recent_runs.hpp"

#include <chrono>
#include <ctime>

#include "core/execution_result.hpp"

namespace ignite::runner {

std::string utc_timestamp() {
  const auto now = std::chrono::system_clock::now();
  const std::time_t secs = std::chrono::system_clock::to_time_t(now);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  ::gmtime_r(&secs, &tm);
  char buf[40];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  char out[48];
  std::snprintf(out, sizeof out, "%.*s.%03dZ", static_cast<int>(n), buf, static_cast<int>(ms));
  return out;
}

void RecentRuns::record(const engine::JobReport& report) {
  const ExecutionResult& r = report.result;
  RunSummary run;
  run.finished_at = utc_timestamp();
  run.service = report.service_name;
  run.runtime = report.runtime;
  run.isolation = report.isolation;
  run.status = std::string(status_name(r.outcome, r.exit_code));
  run.wall_ms = static_cast<double>(r.usage.wall.count()) / 1000.0;
  run.cpu_ms = static_cast<double>(r.usage.cpu.count()) / 1000.0;
  run.peak_memory_bytes = r.usage.peak_memory_bytes;
  run.cold_start = report.cold_start;
  const std::lock_guard lock(mu_);
  run.seq = ++seq_;
  runs_.push_back(std::move(run));
  while (runs_.size() > capacity_) runs_.pop_front();
}

std::vector<RunSummary> RecentRuns::newest_first() const {
  const std::lock_guard lock(mu_);
  return {runs_.rbegin(), runs_.rend()};
}

}  // namespace ignite::runner
