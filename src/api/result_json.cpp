#include "api/result_json.hpp"

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdint>
#include <cstring>

#include "core/utf8.hpp"

namespace ignite::api {
namespace {

using nlohmann::json;

// The contract reports milliseconds and MiB with one decimal: finer digits are noise.
double round1(double value) { return std::round(value * 10.0) / 10.0; }

double to_ms(std::chrono::microseconds us) { return round1(static_cast<double>(us.count()) / 1e3); }

// Whole core counts print as `1`, as in the contract's example, fractions as `0.5`.
json number(double value) {
  if (std::isfinite(value) && value == std::trunc(value) && std::fabs(value) < 1e15) {
    return static_cast<std::int64_t>(value);
  }
  return value;
}

// Output as it goes on the wire. Invalid UTF-8 is base64-encoded: nlohmann refuses to dump it,
// and clients must be told (via "<stream>Encoding") that the text is not literal.
struct WireText {
  std::string text;
  bool base64 = false;
};

WireText to_wire(const std::string& data) {
  if (is_valid_utf8(data)) return {data, false};
  return {base64_encode(data), true};
}

json metrics_json(const engine::JobReport& report) {
  const Usage& usage = report.result.usage;
  constexpr double kMiB = 1024.0 * 1024.0;
  json m = {
      {"executionTimeMs", to_ms(usage.wall)},
      {"cpuTimeMs", to_ms(usage.cpu)},
      {"memoryUsedMb", round1(static_cast<double>(usage.peak_memory_bytes) / kMiB)},
      {"memoryPeakBytes", usage.peak_memory_bytes},
      {"pidsPeak", usage.pids_peak},
      {"coldStart", report.cold_start},
      {"setupMs", to_ms(report.result.setup)},
  };
  // A microVM's own cost on the host (its VMM over the VM's life), beside the job's above.
  if (const auto& vmm = report.result.vmm)
    m["vm"] = {{"memoryPeakBytes", vmm->peak_memory_bytes}, {"cpuTimeMs", to_ms(vmm->cpu)}};
  return m;
}

// A step before the run (go build, TypeScript transpile, dependency install): its own status,
// output and metrics, or just {"cached": true} when its artifact was reused.
json step_json(const std::optional<ExecutionResult>& step, bool cached) {
  if (!step) return {{"cached", cached}};
  const ExecutionResult& c = *step;
  constexpr double kMiB = 1024.0 * 1024.0;
  return {
      {"cached", false},
      {"status", std::string(status_name(c.outcome, c.exit_code))},
      {"exitCode", c.outcome == Outcome::exited ? json(c.exit_code) : json(nullptr)},
      {"stdout", to_wire(c.stdout_data).text},
      {"stderr", to_wire(c.stderr_data).text},
      {"metrics",
       {{"executionTimeMs", to_ms(c.usage.wall)},
        {"cpuTimeMs", to_ms(c.usage.cpu)},
        {"memoryUsedMb", round1(static_cast<double>(c.usage.peak_memory_bytes) / kMiB)}}},
  };
}

json limits_json(const engine::ReportedLimits& limits) {
  return {
      {"memoryMb", limits.memory_mb},
      {"timeoutMs", limits.timeout_ms},
      {"cpuLimit", number(limits.cpu_limit)},
      {"network", limits.network},
  };
}

}  // namespace

json result_document(const engine::JobReport& report) {
  const ExecutionResult& r = report.result;
  const std::string_view status = status_name(r.outcome, r.exit_code);
  json doc = json::object();
  doc["success"] = status == "ok";
  doc["status"] = std::string(status);
  doc["serviceName"] = sanitize_utf8(report.service_name);
  doc["runtime"] = sanitize_utf8(report.runtime);  // a version from a store directory name
  doc["isolation"] = report.isolation;
  // Security: a run without every mechanism (no cgroup: rlimits only) says so in every result,
  // with what it lacked, so no client mistakes it for full isolation.
  doc["isolationLevel"] = r.degradations.empty() ? "full" : "degraded";
  if (!r.degradations.empty()) {
    doc["degradations"] = json::array();
    for (const auto& d : r.degradations) doc["degradations"].push_back(sanitize_utf8(d));
  }
  WireText out = to_wire(r.stdout_data);
  WireText err = to_wire(r.stderr_data);
  doc["output"] = out.text;  // mirrors "stdout" (the original Ignite field); same encoding
  doc["stdout"] = std::move(out.text);
  if (out.base64) doc["stdoutEncoding"] = "base64";
  doc["stderr"] = std::move(err.text);
  if (err.base64) doc["stderrEncoding"] = "base64";
  doc["stdoutTruncated"] = r.stdout_truncated;
  doc["stderrTruncated"] = r.stderr_truncated;
  // Only a normal exit has an exit code; a timeout or OOM kill is reported by status/signal.
  doc["exitCode"] = r.outcome == Outcome::exited ? json(r.exit_code) : json(nullptr);
  doc["signal"] = r.signal > 0 ? json(signal_name(r.signal)) : json(nullptr);
  doc["metrics"] = metrics_json(report);
  doc["limits"] = limits_json(report.limits);
  if (report.preflight) doc["preflight"] = preflight_json(*report.preflight);
  if (report.compile || report.compile_cached)
    doc["compile"] = step_json(report.compile, report.compile_cached);
  if (report.install || report.install_cached)
    doc["install"] = step_json(report.install, report.install_cached);
  // detail may quote what the program did (a path, a syscall); keep the document serializable.
  if (!r.detail.empty()) doc["detail"] = sanitize_utf8(r.detail);
  if (!r.blocked_syscall.empty()) doc["blockedSyscall"] = sanitize_utf8(r.blocked_syscall);
  // CONTRACT §4: when the program left files in /out.
  if (!report.files.empty() || report.files_truncated || !report.files_error.empty()) {
    doc["files"] = files_json(report.files);
    doc["filesTruncated"] = report.files_truncated;
    if (!report.files_error.empty()) doc["filesError"] = sanitize_utf8(report.files_error);
  }
  return doc;
}

json files_json(const std::vector<engine::OutputFile>& files) {
  json list = json::array();
  for (const auto& f : files) {
    // Text stays readable when it is text; anything else (an image, bytes) is base64.
    const bool text = (f.mime_type.starts_with("text/") || f.mime_type == "application/json" ||
                       f.mime_type == "image/svg+xml" || f.mime_type == "application/xml" ||
                       f.mime_type == "application/yaml") &&
                      is_valid_utf8(f.content);
    list.push_back({{"path", sanitize_utf8(f.path)},
                    {"size", f.content.size()},
                    {"mimeType", f.mime_type},
                    {"encoding", text ? "utf8" : "base64"},
                    {"content", text ? f.content : base64_encode(f.content)}});
  }
  return list;
}

json preflight_json(const preflight::ServiceReport& report) {
  json checks = json::array();
  for (const preflight::CheckResult& c : report.checks) {
    checks.push_back({
        {"name", c.name},
        {"status", std::string(preflight::to_string(c.status))},
        // Messages quote names from the (untrusted) service directory, e.g. node_modules entries.
        {"message", sanitize_utf8(c.message)},
        {"value", number(c.value)},
        {"threshold", number(c.threshold)},
        {"unit", c.unit},
    });
  }
  return {{"overallStatus", std::string(preflight::to_string(report.overall))},
          {"checks", std::move(checks)}};
}

std::string signal_name(int signal) {
  // SIGRTMIN is a function call in glibc (the threading library reserves the first few).
  const int rtmin = SIGRTMIN;
  const int rtmax = SIGRTMAX;
  if (signal >= rtmin && signal <= rtmax) {
    return signal == rtmin ? "SIGRTMIN" : "SIGRTMIN+" + std::to_string(signal - rtmin);
  }
  if (const char* abbrev = sigabbrev_np(signal)) return std::string("SIG") + abbrev;
  return "SIG" + std::to_string(signal);
}

std::string sanitize_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t len = utf8_sequence_length(text, i);
    if (len == 0) {
      out += "\uFFFD";  // U+FFFD REPLACEMENT CHARACTER, one per invalid byte
      ++i;
    } else {
      out.append(text, i, len);
      i += len;
    }
  }
  return out;
}

}  // namespace ignite::api
