// `ignite env [<dir>] [--runtimes]`: what a service resolves to and what its sandbox will see.
#include <iomanip>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/common.hpp"
#include "cli/context.hpp"
#include "config/service_config.hpp"
#include "runtime/catalog.hpp"

namespace ignite::cli {
namespace {

struct EnvOptions {
  std::string dir;
  bool runtimes = false;
};

void print_runtimes(const runtime::Catalog& catalog) {
  const std::vector<runtime::Installed> installed = catalog.list();
  std::cout << "Runtimes:\n";
  if (installed.empty()) {
    std::cout << "  (none installed; try `ignite runtimes install bun`)\n";
    return;
  }
  for (const runtime::Installed& rt : installed) {
    std::cout << "  " << std::left << std::setw(9) << rt.name << " " << std::setw(10) << rt.version
              << " " << rt.binary.string() << "\n";
  }
}

// Settings after defaults and ${VAR} expansion, then the sandbox environment (CONTRACT §1).
void print_service(const config::ServiceConfig& s, const Result<runtime::Installed>& rt) {
  std::cout << "Service: " << s.name << "\n"
            << "  Directory:    " << s.dir.string() << "\n"
            << "  Runtime:      " << s.runtime.to_string();
  if (rt) {
    std::cout << " -> " << rt->label() << " (" << rt->binary.string() << ")\n";
  } else {
    std::cout << " (not installed: " << rt.error().message << ")\n";
  }
  std::cout << "  Entry:        " << s.entry << " (/app/" << s.entry << " in the sandbox)\n"
            << "  Memory:       " << s.memory_mb << "MB\n"
            << "  Timeout:      " << s.timeout_ms << "ms\n"
            << "  CPU limit:    " << s.cpu_limit << "\n"
            << "  Network:      " << (s.network ? "enabled" : "disabled") << "\n"
            << "  Dependencies: ";
  if (s.dependencies.empty()) std::cout << "none";
  for (std::size_t i = 0; i < s.dependencies.size(); ++i) {
    std::cout << (i > 0 ? ", " : "") << s.dependencies[i];
  }
  std::cout << "\n\nSandbox environment (nothing else from the host is passed in):\n"
            << "  HOME=/tmp\n";
  if (rt) {
    for (const std::string& kv : rt->env) std::cout << "  " << kv << "\n";
  }
  for (const auto& [key, value] : s.env) std::cout << "  " << key << "=" << value << "\n";
  std::cout << "  IGNITE_INPUT=(set per run to the input JSON; unset when no input is given)\n";
}

int run_env(const EnvOptions& opt) {
  const runtime::CatalogRoots roots = runtime::default_roots();
  const runtime::Catalog catalog(roots);
  if (opt.dir.empty()) {
    std::cout << "Ignite " << IGNITE_VERSION << "\n"
              << "Runtime store: " << roots.store.string() << "\n";
    print_runtimes(catalog);
    return 0;
  }
  auto service = load_service_with(opt.dir, "");
  if (!service) return report_error(service.error());
  print_service(*service, catalog.resolve(service->runtime));
  if (opt.runtimes) {
    std::cout << "\n";
    print_runtimes(catalog);
  }
  return 0;
}

}  // namespace

void register_env(CLI::App& app, Context& ctx) {
  auto opt = std::make_shared<EnvOptions>();
  CLI::App* cmd = app.add_subcommand(
      "env", "Show a service's resolved settings and sandbox environment, or Ignite's own");
  cmd->add_option("dir", opt->dir, "Service directory");
  cmd->add_flag("--runtimes", opt->runtimes, "List installed runtimes");
  cmd->callback([opt, &ctx] { ctx.exit_code = run_env(*opt); });
}

}  // namespace ignite::cli
