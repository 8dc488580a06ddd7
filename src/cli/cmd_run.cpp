// `ignite run <dir>`: run a service once in a sandbox (CONTRACT §2).
#include <unistd.h>

#include <cstdio>
#include <memory>

#include "api/result_json.hpp"
#include "cli/common.hpp"
#include "cli/context.hpp"
#include "engine/engine.hpp"

namespace ignite::cli {
namespace {

struct RunOptions {
  std::string dir;
  std::string input;
  std::string runtime;
  std::string isolation = "native";
  bool skip_preflight = false;
  bool json = false;
  bool allow_degraded = false;
};

void write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n <= 0) return;  // the reader is gone; the run goes on regardless
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

// One human line on stderr after a plain run: status, time, CPU, peak memory.
void print_summary(const engine::JobReport& r) {
  const auto& res = r.result;
  std::fprintf(stderr, "[ignite] %s (%s) in %.1f ms, cpu %.1f ms, peak memory %.1f MB%s%s\n",
               std::string(status_name(res.outcome, res.exit_code)).c_str(), r.runtime.c_str(),
               static_cast<double>(res.usage.wall.count()) / 1000.0,
               static_cast<double>(res.usage.cpu.count()) / 1000.0,
               static_cast<double>(res.usage.peak_memory_bytes) / (1024.0 * 1024.0),
               res.detail.empty() ? "" : ": ", res.detail.c_str());
}

int run(const RunOptions& o) {
  auto service = load_service_with(o.dir, o.runtime);
  if (!service) return report_error(service.error());
  engine::JobRequest request{*service, std::nullopt, o.skip_preflight, o.isolation};
  if (!o.input.empty()) {
    auto input = read_input_arg(o.input);
    if (!input) return report_error(input.error());
    request.input_json = *input;
  }
  auto backend = make_backend(o.isolation, o.allow_degraded);
  if (!backend) return report_error(backend.error());
  engine::Engine engine(**backend, runtime::Catalog(runtime::default_roots()));

  sandbox::OutputSink sink;
  if (!o.json) {
    sink = [](sandbox::Stream s, std::string_view chunk) {
      write_all(s == sandbox::Stream::out ? STDOUT_FILENO : STDERR_FILENO, chunk);
    };
  }
  auto report = engine.execute(request, std::stop_token{}, sink);
  if (!report) return report_error(report.error());
  if (o.json) {
    std::string doc = api::result_document(*report).dump() + "\n";
    write_all(STDOUT_FILENO, doc);
  } else {
    if (report->preflight && report->preflight->overall != preflight::CheckStatus::pass) {
      for (const auto& c : report->preflight->checks) {
        if (c.status == preflight::CheckStatus::warn)
          std::fprintf(stderr, "[preflight] warning: %s: %s\n", c.name.c_str(), c.message.c_str());
      }
    }
    print_summary(*report);
  }
  const auto& r = report->result;
  return cli_exit_code(r.outcome, r.exit_code, r.signal);
}

}  // namespace

void register_run(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<RunOptions>();
  auto* cmd = app.add_subcommand("run", "Run a service once in a sandbox");
  cmd->add_option("dir", o->dir, "Service directory (contains service.yaml)")->required();
  cmd->add_option("--input", o->input, "Input JSON (or @file), passed as IGNITE_INPUT");
  cmd->add_option("--runtime", o->runtime, "Override the runtime: RT[@VERSION]");
  cmd->add_flag("--skip-preflight", o->skip_preflight, "Do not run preflight checks first");
  cmd->add_flag("--json", o->json, "Print exactly one JSON result document on stdout");
  cmd->add_option("--isolation", o->isolation, "native | docker | microvm")
      ->check(CLI::IsMember({"native", "docker", "microvm"}));
  cmd->add_flag("--allow-degraded", o->allow_degraded,
                "Run even if cgroup limits cannot be enforced (rlimits only)");
  cmd->callback([o, &ctx] { ctx.exit_code = run(*o); });
}

}  // namespace ignite::cli
