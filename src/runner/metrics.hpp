// Prometheus metrics of executions (every transport records into one): executions by runtime
// and status, duration and peak-memory histograms, rejections, HTTP responses; gauges are read
// at scrape time.
#pragma once
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace ignite::runner {

// Values that are read, not counted: sampled when /metrics is rendered.
struct Gauges {
  std::size_t in_flight = 0;        // sandboxes running now
  std::size_t queue_depth = 0;      // requests waiting for a slot
  std::size_t jobs_queued = 0;      // async jobs not yet started
  std::size_t capacity = 0;         // max concurrent executions
  bool draining = false;
  double uptime_s = 0;
};

class Metrics {
 public:
  Metrics();

  void record_execution(const std::string& runtime, const std::string& status, double seconds,
                        std::uint64_t peak_memory_bytes);
  void record_error(const std::string& code);       // Ignite's own failures (5xx/4xx by engine)
  void record_rejection(const std::string& reason);  // queue_full, rate_limited, draining, ...
  void record_response(int status);
  void record_client_disconnect();                   // a streaming client left: run cancelled

  // The text exposition format (version 0.0.4), with HELP and TYPE for every family.
  std::string render(const Gauges& gauges) const;

 private:
  struct Histogram {
    std::vector<double> bounds;
    std::vector<std::uint64_t> counts;  // per bucket, not cumulative; +Inf last
    double sum = 0;
    std::uint64_t count = 0;
    void observe(double v);
  };

  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, std::uint64_t> executions_;  // (runtime, status)
  std::map<std::string, Histogram> duration_;  // by runtime
  std::map<std::string, Histogram> memory_;    // by runtime
  std::map<std::string, std::uint64_t> errors_;
  std::map<std::string, std::uint64_t> rejected_;
  std::map<int, std::uint64_t> responses_;
  std::uint64_t disconnects_ = 0;
  const std::vector<double> duration_bounds_;
  const std::vector<double> memory_bounds_;
};

// A label value escaped for the exposition format (backslash, quote, newline).
std::string escape_label(const std::string& value);

}  // namespace ignite::runner
