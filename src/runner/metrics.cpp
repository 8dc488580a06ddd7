#include "runner/metrics.hpp"

#include <charconv>
#include <cstdio>

namespace ignite::runner {
namespace {

// The shortest text that reads back as the same double: "0.025", not "0.025000000000000001"
// (bucket bounds are label values, so they must be stable and readable).
std::string num(double v) {
  char buf[64];
  const auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

void family(std::string& out, const char* name, const char* type, const char* help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  out += help;
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void sample(std::string& out, const std::string& name, const std::string& labels, double value) {
  out += name;
  if (!labels.empty()) out += "{" + labels + "}";
  out += ' ';
  out += num(value);
  out += '\n';
}

std::string label(const char* key, const std::string& value) {
  return std::string(key) + "=\"" + escape_label(value) + "\"";
}

}  // namespace

std::string escape_label(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

void Metrics::Histogram::observe(double v) {
  std::size_t i = 0;
  while (i < bounds.size() && v > bounds[i]) ++i;
  ++counts[i];
  sum += v;
  ++count;
}

// Sandboxed runs take from a few milliseconds (a cached trivial script) to the timeout ceiling;
// peak memory from a few MiB to the memory ceiling.
Metrics::Metrics()
    : duration_bounds_{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60},
      memory_bounds_{1 << 20, 4 << 20, 16 << 20, 32 << 20, 64 << 20, 128 << 20, 256 << 20,
                     512 << 20, 1024.0 * (1 << 20)} {}

void Metrics::record_execution(const std::string& runtime, const std::string& status,
                               double seconds, std::uint64_t peak_memory_bytes) {
  std::lock_guard lock(mu_);
  ++executions_[{runtime, status}];
  auto make = [](const std::vector<double>& b) {
    return Histogram{b, std::vector<std::uint64_t>(b.size() + 1, 0), 0, 0};
  };
  duration_.try_emplace(runtime, make(duration_bounds_)).first->second.observe(seconds);
  memory_.try_emplace(runtime, make(memory_bounds_))
      .first->second.observe(static_cast<double>(peak_memory_bytes));
}

void Metrics::record_error(const std::string& code) {
  std::lock_guard lock(mu_);
  ++errors_[code];
}

void Metrics::record_rejection(const std::string& reason) {
  std::lock_guard lock(mu_);
  ++rejected_[reason];
}

void Metrics::record_response(int status) {
  std::lock_guard lock(mu_);
  ++responses_[status];
}

void Metrics::record_client_disconnect() {
  std::lock_guard lock(mu_);
  ++disconnects_;
}

std::string Metrics::render(const Gauges& g) const {
  std::lock_guard lock(mu_);
  std::string out;
  family(out, "ignite_executions_total", "counter", "Finished sandboxed executions by runtime and status.");
  for (const auto& [k, v] : executions_)
    sample(out, "ignite_executions_total", label("runtime", k.first) + "," + label("status", k.second),
           static_cast<double>(v));

  auto histograms = [&](const char* name, const char* help, const std::map<std::string, Histogram>& m) {
    family(out, name, "histogram", help);
    const std::string bucket = std::string(name) + "_bucket";
    for (const auto& [runtime, h] : m) {
      std::uint64_t cumulative = 0;
      for (std::size_t i = 0; i <= h.bounds.size(); ++i) {
        cumulative += h.counts[i];
        const std::string le = i < h.bounds.size() ? num(h.bounds[i]) : "+Inf";
        sample(out, bucket, label("runtime", runtime) + "," + label("le", le),
               static_cast<double>(cumulative));
      }
      sample(out, std::string(name) + "_sum", label("runtime", runtime), h.sum);
      sample(out, std::string(name) + "_count", label("runtime", runtime), static_cast<double>(h.count));
    }
  };
  histograms("ignite_execution_duration_seconds", "Wall-clock time of executions.", duration_);
  histograms("ignite_execution_peak_memory_bytes", "Peak memory of the whole sandbox (cgroup).", memory_);

  family(out, "ignite_execution_errors_total", "counter", "Requests Ignite itself could not run, by error code.");
  for (const auto& [k, v] : errors_) sample(out, "ignite_execution_errors_total", label("code", k), static_cast<double>(v));
  family(out, "ignite_rejected_total", "counter", "Requests refused before running, by reason.");
  for (const auto& [k, v] : rejected_) sample(out, "ignite_rejected_total", label("reason", k), static_cast<double>(v));
  family(out, "ignite_http_responses_total", "counter", "HTTP responses by status code.");
  for (const auto& [k, v] : responses_)
    sample(out, "ignite_http_responses_total", label("code", std::to_string(k)), static_cast<double>(v));
  family(out, "ignite_stream_disconnects_total", "counter", "Streaming clients that left before the end (run cancelled).");
  sample(out, "ignite_stream_disconnects_total", "", static_cast<double>(disconnects_));

  family(out, "ignite_executions_in_flight", "gauge", "Sandboxes running now.");
  sample(out, "ignite_executions_in_flight", "", static_cast<double>(g.in_flight));
  family(out, "ignite_queue_depth", "gauge", "Requests waiting for an execution slot.");
  sample(out, "ignite_queue_depth", "", static_cast<double>(g.queue_depth));
  family(out, "ignite_jobs_queued", "gauge", "Async jobs accepted and not yet started.");
  sample(out, "ignite_jobs_queued", "", static_cast<double>(g.jobs_queued));
  family(out, "ignite_execution_slots", "gauge", "Maximum concurrent executions.");
  sample(out, "ignite_execution_slots", "", static_cast<double>(g.capacity));
  family(out, "ignite_draining", "gauge", "1 while the server drains after SIGTERM.");
  sample(out, "ignite_draining", "", g.draining ? 1 : 0);
  family(out, "ignite_uptime_seconds", "gauge", "Seconds since the server started.");
  sample(out, "ignite_uptime_seconds", "", g.uptime_s);
  return out;
}

}  // namespace ignite::runner
