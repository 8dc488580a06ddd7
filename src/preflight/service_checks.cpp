// The four service checks and their text rendering; pure functions of config + facts.
#include "preflight/service_checks.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace ignite::preflight {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;

double to_mb(std::uint64_t bytes) { return static_cast<double>(bytes) / kMiB; }

// "64" for whole numbers, "70.5" otherwise: facts are read by people.
std::string format_number(double value) {
  char buf[64];
  if (value == std::trunc(value) && std::fabs(value) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", value);
  } else {
    std::snprintf(buf, sizeof buf, "%.1f", value);
  }
  return buf;
}

std::string mb(double value) { return format_number(value) + "MB"; }

std::string status_word(CheckStatus s) {
  switch (s) {
    case CheckStatus::pass:
      return "OK";
    case CheckStatus::warn:
      return "WARN";
    case CheckStatus::fail:
      return "FAIL";
  }
  return "OK";
}

CheckResult named(std::string name, std::string unit) {
  CheckResult c;
  c.name = std::move(name);
  c.unit = std::move(unit);
  return c;
}

// Appends the Status fact, and for a check that did not pass, the Reason (default: the message).
void finish_facts(CheckResult& c, std::string reason = {}) {
  c.facts.emplace_back("Status", status_word(c.status));
  if (c.status != CheckStatus::pass) {
    c.facts.emplace_back("Reason", reason.empty() ? c.message : std::move(reason));
  }
}

CheckResult memory_check(const config::ServiceConfig& service, const RuntimeFacts& runtime,
                         std::size_t dependency_count) {
  const config::MemoryThresholds& t = service.preflight.memory;
  const double base = t.base_mb.value_or(runtime.baseline_mb);
  const double estimated = base + t.per_dependency_mb * static_cast<double>(dependency_count);
  const double allocated = service.memory_mb;
  CheckResult c = named("Memory", "MB");
  c.value = allocated;
  c.threshold = estimated;
  // A zero estimate (baseMb: 0, no dependencies) cannot be undershot.
  const double ratio =
      estimated > 0 ? allocated / estimated : std::numeric_limits<double>::infinity();
  c.message = mb(allocated) + " allocated, " + mb(estimated) + " estimated";
  std::string reason;
  if (ratio < t.fail_ratio || ratio < t.warn_ratio) {
    const bool failed = ratio < t.fail_ratio;
    c.status = failed ? CheckStatus::fail : CheckStatus::warn;
    char ratio_text[32];
    std::snprintf(ratio_text, sizeof ratio_text, "%.2f", ratio);
    reason = std::string("ratio ") + ratio_text + " is below " +
             format_number(failed ? t.fail_ratio : t.warn_ratio) + "; raise memoryMb to " +
             format_number(std::ceil(estimated * t.warn_ratio)) + " or more";
    c.message += " (" + reason + ")";
  }
  c.facts = {{"Allocated", mb(allocated)}, {"Estimated", mb(estimated)}};
  finish_facts(c, std::move(reason));
  return c;
}

CheckResult timeout_check(const config::ServiceConfig& service) {
  const double configured = service.timeout_ms;
  CheckResult c = named("Timeout", "ms");
  c.value = configured;
  const std::string text = format_number(configured) + "ms";
  if (service.timeout_ms < kMinTimeoutMs) {
    c.status = CheckStatus::fail;
    c.threshold = kMinTimeoutMs;
    c.message = text + " is below the " + std::to_string(kMinTimeoutMs) + "ms minimum";
  } else {
    c.threshold = kMaxRecommendedTimeoutMs;
    if (service.timeout_ms > kMaxRecommendedTimeoutMs) {
      c.status = CheckStatus::warn;
      c.message = text + " exceeds the recommended " + std::to_string(kMaxRecommendedTimeoutMs) +
                  "ms maximum";
    } else {
      c.message = text + " configured";
    }
  }
  c.facts = {{"Configured", text}};
  finish_facts(c);
  return c;
}

CheckResult image_size_check(const RuntimeFacts& runtime, const ServiceFacts& facts) {
  const std::uint64_t base = runtime.image_bytes.value_or(runtime.install_bytes);
  const std::uint64_t total = base + facts.service_bytes + facts.dependency_bytes;
  // With an image the base is the image the daemon reports, else the runtime's files on disk.
  const std::string where = runtime.image_bytes ? " with the runtime image" : " on disk";
  CheckResult c = named("Image Size", "MB");
  c.value = std::round(to_mb(total));
  const std::string total_text = mb(std::round(to_mb(total)));
  if (total > kImageFailBytes) {
    c.status = CheckStatus::fail;
    c.threshold = to_mb(kImageFailBytes);
    c.message = total_text + where + " exceeds the " + mb(c.threshold) + " limit";
  } else {
    c.threshold = to_mb(kImageWarnBytes);
    if (total > kImageWarnBytes) {
      c.status = CheckStatus::warn;
      c.message = total_text + where + " exceeds the recommended " + mb(c.threshold);
    } else {
      c.message = total_text + where;
    }
  }
  c.facts = {{runtime.image_bytes ? "Image" : "Base", mb(std::round(to_mb(base)))}, {"Total", "~" + total_text}};
  finish_facts(c);
  return c;
}

// "a, b, c" with at most `max` names, then "and N more".
std::string name_list(const std::vector<std::string>& names, std::size_t max) {
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < max; ++i) {
    if (i > 0) out += ", ";
    out += names[i];
  }
  if (names.size() > max) out += " and " + std::to_string(names.size() - max) + " more";
  return out;
}

CheckResult dependency_check(const ServiceFacts& facts) {
  const std::size_t count = facts.dependencies.size();
  CheckResult c = named("Dependency", "count");
  c.value = static_cast<double>(count);
  c.threshold = static_cast<double>(kMaxRecommendedDependencies);
  c.facts = {{"Count", std::to_string(count)}};
  std::vector<std::string> problems;
  if (!facts.install_scripts.empty()) {
    // Security: install scripts run arbitrary code at install time, outside any sandbox.
    problems.push_back(std::to_string(facts.install_scripts.size()) +
                       " package(s) with install scripts: " + name_list(facts.install_scripts, 5));
    c.facts.emplace_back("Install scripts", name_list(facts.install_scripts, 5));
  }
  if (count > kMaxRecommendedDependencies) {
    problems.push_back(std::to_string(count) + " dependencies (more than " +
                       std::to_string(kMaxRecommendedDependencies) + ") slow down cold starts");
  }
  if (facts.package_json_dependencies && !facts.lockfile_present) {
    problems.push_back("package.json has dependencies but no lockfile pins their versions");
    c.facts.emplace_back("Lockfile", "missing");
  }
  if (problems.empty()) {
    c.message = std::to_string(count) + " dependencies";
  } else {
    c.status = CheckStatus::warn;
    for (std::size_t i = 0; i < problems.size(); ++i) {
      c.message += (i > 0 ? "; " : "") + problems[i];
    }
  }
  finish_facts(c);
  return c;
}

std::string_view icon(CheckStatus s) {
  switch (s) {
    case CheckStatus::pass:
      return "\u2713";  // ✓
    case CheckStatus::warn:
      return "\u26A0";  // ⚠
    case CheckStatus::fail:
      return "\u2717";  // ✗
  }
  return "?";
}

}  // namespace

std::string_view to_string(CheckStatus s) noexcept {
  switch (s) {
    case CheckStatus::pass:
      return "pass";
    case CheckStatus::warn:
      return "warn";
    case CheckStatus::fail:
      return "fail";
  }
  return "fail";
}

ServiceReport check_service(const config::ServiceConfig& service, const RuntimeFacts& runtime,
                            const ServiceFacts& facts) {
  ServiceReport report;
  report.checks.push_back(memory_check(service, runtime, facts.dependencies.size()));
  report.checks.push_back(timeout_check(service));
  report.checks.push_back(image_size_check(runtime, facts));
  report.checks.push_back(dependency_check(facts));
  // The enum is ordered pass < warn < fail, so the overall status is the worst one.
  for (const CheckResult& c : report.checks) report.overall = std::max(report.overall, c.status);
  return report;
}

std::string render_text(const ServiceReport& report, std::string_view service_name) {
  std::string out = "[preflight] Analyzing service: " + std::string(service_name) + "\n\n";
  std::size_t warned = 0;
  std::size_t failed = 0;
  for (const CheckResult& c : report.checks) {
    warned += c.status == CheckStatus::warn ? 1 : 0;
    failed += c.status == CheckStatus::fail ? 1 : 0;
    out += std::string(icon(c.status)) + " " + c.name + " Check\n";
    for (const auto& [key, value] : c.facts) out += "  " + key + ": " + value + "\n";
    out += "\n";
  }
  if (failed > 0) {
    out += "[preflight] " + std::to_string(failed) + " check(s) failed\n";
  } else if (warned > 0) {
    out += "[preflight] " + std::to_string(warned) + " warning(s)\n";
  } else {
    out += "[preflight] All checks passed\n";
  }
  return out;
}

}  // namespace ignite::preflight
