// `ignite preflight <dir>`: the CONTRACT §3 checks alone. Exit 0 pass/warn, 1 fail, 125 error.
#include <cstdio>
#include <memory>

#include "api/result_json.hpp"
#include "cli/common.hpp"
#include "cli/context.hpp"
#include "engine/engine.hpp"

namespace ignite::cli {
namespace {

struct PreflightOptions {
  std::string dir;
  bool json = false;
};

int preflight_cmd(const PreflightOptions& o) {
  auto service = load_service_with(o.dir, "");
  if (!service) return report_error(service.error());
  auto checked = engine::preflight_service(runtime::Catalog(runtime::default_roots()), *service);
  if (!checked) return report_error(checked.error());
  const preflight::ServiceReport& report = *checked;
  if (o.json) {
    nlohmann::json doc{{"serviceName", service->name}, {"preflight", api::preflight_json(report)}};
    std::printf("%s\n", doc.dump().c_str());
  } else {
    std::printf("%s", preflight::render_text(report, service->name).c_str());
  }
  return report.overall == preflight::CheckStatus::fail ? 1 : 0;
}

}  // namespace

void register_preflight(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<PreflightOptions>();
  auto* cmd = app.add_subcommand("preflight", "Check a service before running it");
  cmd->add_option("dir", o->dir, "Service directory")->required();
  cmd->add_flag("--json", o->json, "Print the checks as JSON");
  cmd->callback([o, &ctx] { ctx.exit_code = preflight_cmd(*o); });
}

}  // namespace ignite::cli
