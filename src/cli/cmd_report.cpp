// `ignite report <dir> [--json] [--output FILE]`: one shareable summary of a service: its
// settings, the runtime it resolves to, and its preflight checks.
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "api/result_json.hpp"
#include "cli/common.hpp"
#include "cli/context.hpp"
#include "config/service_config.hpp"
#include "engine/engine.hpp"
#include "preflight/service_checks.hpp"
#include "runtime/catalog.hpp"

namespace ignite::cli {
namespace {

struct ReportOptions {
  std::string dir;
  bool json = false;
  std::string output;
};

struct ServiceSummary {
  config::ServiceConfig service;
  Result<runtime::Installed> runtime;
  preflight::ServiceReport preflight;
};

// A missing runtime is part of the report, not a failure: preflight then runs with the
// runtime's defaults (unknown install size, default memory baseline).
preflight::RuntimeFacts runtime_facts(const config::ServiceConfig& s,
                                      const Result<runtime::Installed>& rt) {
  if (rt) return engine::runtime_facts(*rt, s.profile);
  preflight::RuntimeFacts facts;
  facts.name = s.runtime.name;
  facts.version = s.runtime.version;
  return facts;
}

// Env values can be secrets expanded from the caller's environment; a report is meant to be
// shared, so it lists names only.
std::vector<std::string> env_names(const config::ServiceConfig& s) {
  std::vector<std::string> names;
  for (const auto& [key, value] : s.env) names.push_back(key);
  return names;
}

std::string joined(const std::vector<std::string>& items) {
  if (items.empty()) return "none";
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ", ") + item;
  return out;
}

nlohmann::json to_json(const ServiceSummary& r) {
  const config::ServiceConfig& s = r.service;
  nlohmann::json service = {
      {"name", s.name},
      {"dir", s.dir.string()},
      {"runtime", s.runtime.to_string()},
      {"entry", s.entry},
      {"memoryMb", s.memory_mb},
      {"timeoutMs", s.timeout_ms},
      {"cpuLimit", s.cpu_limit},
      {"network", s.network},
      {"env", env_names(s)},
      {"dependencies", s.dependencies},
      {"dependenciesDeclared", s.dependencies_declared},
  };
  nlohmann::json rt = {{"requested", s.runtime.to_string()}, {"installed", r.runtime.has_value()}};
  if (r.runtime) {
    rt["name"] = r.runtime->name;
    rt["version"] = r.runtime->version;
    rt["binary"] = r.runtime->binary.string();
    rt["installBytes"] = r.runtime->install_bytes;
    rt["baselineMb"] = r.runtime->baseline_mb;
  } else {
    rt["error"] = r.runtime.error().message;
  }
  return {{"igniteVersion", IGNITE_VERSION},
          {"service", std::move(service)},
          {"runtime", std::move(rt)},
          {"preflight", api::preflight_json(r.preflight)}};
}

std::string to_text(const ServiceSummary& r) {
  const config::ServiceConfig& s = r.service;
  std::ostringstream out;
  out << "Ignite report: " << s.name << " (ignite " << IGNITE_VERSION << ")\n\n"
      << "Service\n"
      << "  Directory:     " << s.dir.string() << "\n"
      << "  Runtime:       " << s.runtime.to_string() << "\n"
      << "  Entry:         " << s.entry << "\n"
      << "  Memory:        " << s.memory_mb << "MB\n"
      << "  Timeout:       " << s.timeout_ms << "ms\n"
      << "  CPU limit:     " << s.cpu_limit << "\n"
      << "  Network:       " << (s.network ? "enabled" : "disabled") << "\n"
      << "  Environment:   " << joined(env_names(s)) << "\n"
      << "  Dependencies:  " << joined(s.dependencies)
      << (s.dependencies.empty()    ? ""
          : s.dependencies_declared ? " (declared)"
          : s.runtime.name == "python" ? " (from requirements.txt)"
                                    : " (from package.json)")
      << "\n\n"
      << "Runtime\n";
  if (r.runtime) {
    out << "  Resolved:      " << r.runtime->label() << "\n"
        << "  Binary:        " << r.runtime->binary.string() << "\n"
        << "  Size on disk:  " << (r.runtime->install_bytes >> 20) << "MB\n";
  } else {
    out << "  Status:        not installed\n"
        << "  Detail:        " << r.runtime.error().message << "\n";
  }
  out << "\nPreflight\n" << preflight::render_text(r.preflight, s.name);
  return out.str();
}

int run_report(const ReportOptions& opt) {
  auto service = load_service_with(opt.dir, "");
  if (!service) return report_error(service.error());

  const runtime::Catalog catalog(runtime::default_roots());
  ServiceSummary summary{*service, catalog.resolve(service->runtime), {}};
  summary.preflight =
      preflight::check_service(summary.service, runtime_facts(summary.service, summary.runtime),
                               preflight::gather_service_facts(summary.service));

  // replace: a non-UTF-8 path must not make nlohmann throw halfway through the report.
  const std::string text =
      opt.json
          ? to_json(summary).dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n"
          : to_text(summary);
  if (opt.output.empty()) {
    std::cout << text;
    return 0;
  }
  std::ofstream file(opt.output, std::ios::binary | std::ios::trunc);
  if (!(file << text) || !file.flush()) {
    return report_error({ErrorCode::invalid_argument, "cannot write " + opt.output});
  }
  std::cerr << "Report written to " << opt.output << "\n";
  return 0;
}

}  // namespace

void register_report(CLI::App& app, Context& ctx) {
  auto opt = std::make_shared<ReportOptions>();
  CLI::App* cmd = app.add_subcommand(
      "report", "Summarise a service: settings, resolved runtime and preflight checks");
  cmd->add_option("dir", opt->dir, "Service directory")->required();
  cmd->add_flag("--json", opt->json, "Print JSON instead of text");
  cmd->add_option("--output", opt->output, "Write the report to FILE instead of stdout");
  cmd->callback([opt, &ctx] { ctx.exit_code = run_report(*opt); });
}

}  // namespace ignite::cli
