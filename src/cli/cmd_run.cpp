// `ignite run <dir>`: run a service once in a sandbox (CONTRACT §2).
#include <memory>

#include "cli/cancel_on_signal.hpp"
#include "cli/common.hpp"
#include "cli/context.hpp"
#include "engine/engine.hpp"

namespace ignite::cli {
namespace {

struct RunOptions {
  std::string dir;
  std::string input;
  std::string runtime;
  std::string isolation;  // empty: the service's own, else native
  bool skip_preflight = false;
  bool json = false;
  bool allow_degraded = false;
  std::string out_dir;
};

int run(const RunOptions& o) {
  auto service = load_service_with(o.dir, o.runtime);
  if (!service) return report_error(service.error());
  engine::JobRequest request{*service, std::nullopt, o.skip_preflight, o.isolation};
  if (!o.input.empty()) {
    auto input = read_input_arg(o.input);
    if (!input) return report_error(input.error());
    request.input_json = *input;
  }
  auto cancel = CancelOnSignal::start();
  if (!cancel) return report_error(cancel.error());
  auto host = make_engine(o.isolation.empty() ? "native" : o.isolation, o.allow_degraded);
  if (!host) return report_error(host.error());

  auto report = host->engine->execute(request, (*cancel)->token(), terminal_sink(o.json));
  const int code = finish_run(report, **cancel, o.json, o.out_dir);
  cancel->reset();  // its thread ends while the sandbox's namespaces go (late_teardown)
  return code;
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
  cmd->add_option("--out", o->out_dir, "Write the files the program leaves in /out under this directory");
  add_isolation_option(cmd, o->isolation, "native | docker | microvm (default: the service's isolation, else native)");
  cmd->add_flag("--allow-degraded", o->allow_degraded,
                "Run even if cgroup limits cannot be enforced (rlimits only)");
  cmd->callback([o, &ctx] { ctx.exit_code = run(*o); });
}

}  // namespace ignite::cli
