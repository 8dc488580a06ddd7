// The last runs this process finished, for the dashboard's table (GET /v1/runs): what ran and how
// it ended, never what it read or printed — the table is shown to every holder of a key, and a
// run's input and output belong only to whoever submitted it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "engine/job.hpp"

namespace ignite::runner {

struct RunSummary {
  std::uint64_t seq = 0;      // 1, 2, 3 … in finishing order (for the id)
  std::string finished_at;    // ISO-8601 UTC, ms
  std::string service;        // "" for ad-hoc code
  std::string runtime;        // "python@3.11.2"
  std::string isolation;
  std::string status;         // the result's status
  double wall_ms = 0;
  double cpu_ms = 0;
  std::uint64_t peak_memory_bytes = 0;
  bool cold_start = true;
};

class RecentRuns {
 public:
  explicit RecentRuns(std::size_t capacity = 100) : capacity_(capacity) {}

  void record(const engine::JobReport& report);
  std::vector<RunSummary> newest_first() const;

 private:
  const std::size_t capacity_;
  mutable std::mutex mu_;
  std::deque<RunSummary> runs_;  // oldest first
  std::uint64_t seq_ = 0;
};

// Now, as "2026-12-01T03:04:05.678Z".
std::string utc_timestamp();

}  // namespace ignite::runner
