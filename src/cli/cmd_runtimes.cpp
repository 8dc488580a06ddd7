// `ignite runtimes [list [--json] | install RT[@VER]...]`: what is installed, and installing more
// into the runtime store (the work is in runtime/installer; this file parses and prints).
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/common.hpp"
#include "cli/context.hpp"
#include "config/service_config.hpp"
#include "runtime/catalog.hpp"
#include "runtime/descriptors.hpp"
#include "runtime/installer.hpp"

namespace ignite::cli {
namespace {

struct RuntimesOptions {
  bool json = false;
  std::vector<std::string> install;
};

bool from_store(const runtime::Installed& rt, const std::filesystem::path& store) {
  const std::string prefix = store.string() + "/";
  return rt.binary.string().compare(0, prefix.size(), prefix) == 0;
}

int list_runtimes(bool json) {
  const runtime::CatalogRoots roots = runtime::default_roots();
  const std::vector<runtime::Installed> installed = runtime::Catalog(roots).list();
  if (json) {
    nlohmann::ordered_json doc = {{"store", roots.store.string()}, {"runtimes", nlohmann::ordered_json::array()}};
    for (const auto& rt : installed) {
      doc["runtimes"].push_back({{"name", rt.name},
                                 {"version", rt.version},
                                 {"label", rt.label()},
                                 {"source", from_store(rt, roots.store) ? "store" : "system"},
                                 {"path", rt.binary.string()},
                                 {"sizeBytes", rt.install_bytes}});
    }
    std::cout << doc.dump(2) << "\n";
    return 0;
  }
  if (installed.empty()) {
    std::cout << "No runtimes installed (store: " << roots.store.string()
              << "); try `ignite runtimes install bun`\n";
    return 0;
  }
  std::cout << std::left << std::setw(9) << "NAME" << std::setw(13) << "VERSION" << std::setw(8)
            << "SOURCE" << "PATH\n";
  for (const auto& rt : installed) {
    std::cout << std::setw(9) << rt.name << std::setw(13) << rt.version << std::setw(8)
              << (from_store(rt, roots.store) ? "store" : "system") << rt.binary.string() << "\n";
  }
  return 0;
}

std::string known_runtimes_list() {
  std::string out;
  for (const auto& d : runtime::descriptors()) out += (out.empty() ? "" : ", ") + d.name;
  return out;
}

int install_runtimes(const std::vector<std::string>& args) {
  // Parse everything first: a typo in the third name should not cost two downloads.
  std::vector<config::RuntimeRef> refs;
  for (const auto& arg : args) {
    auto ref = config::parse_runtime_ref(arg);
    if (!ref) {
      Error e = std::move(ref).error();
      if (e.message.find("expected one of") == std::string::npos)
        e.message += "; known runtimes: " + known_runtimes_list();
      return report_error(e);
    }
    refs.push_back(*ref);
  }
  runtime::InstallerOptions options;
  options.store = runtime::default_roots().store;
  options.progress = [](const std::string& line) { std::fprintf(stderr, "[ignite] %s\n", line.c_str()); };
  const runtime::Installer installer(options);
  int exit_code = 0;
  for (const auto& ref : refs) {
    const runtime::Descriptor* d = runtime::find_descriptor(ref.name);
    if (d == nullptr) return report_error({ErrorCode::internal, "no descriptor for " + ref.name, 0});
    auto done = installer.install(*d, ref.version);
    if (!done) {
      report_error(done.error());
      exit_code = kIgniteFailure;  // keep going: the other runtimes are independent
      continue;
    }
    const std::string what = done->name + " " + done->version + ": ";
    switch (done->kind) {
      case runtime::InstallOutcome::Kind::installed:
        std::cout << what << "installed (" << done->path.string() << ")\n";
        break;
      case runtime::InstallOutcome::Kind::already_present:
        std::cout << what << "already installed (" << done->path.string() << ")\n";
        break;
      case runtime::InstallOutcome::Kind::system:
        std::cout << what << "provided by the system (" << done->path.string() << ")\n";
        break;
    }
    if (!done->note.empty()) std::fprintf(stderr, "[ignite] note: %s\n", done->note.c_str());
  }
  return exit_code;
}

}  // namespace

void register_runtimes(CLI::App& app, Context& ctx) {
  auto opt = std::make_shared<RuntimesOptions>();
  CLI::App* cmd = app.add_subcommand("runtimes", "List installed runtimes, or install more");
  cmd->require_subcommand(0, 1);
  cmd->add_flag("--json", opt->json, "One JSON document on stdout");
  CLI::App* list = cmd->add_subcommand("list", "Installed runtimes: name, version, source, path");
  list->add_flag("--json", opt->json, "One JSON document on stdout");
  CLI::App* install = cmd->add_subcommand(
      "install", "Install runtimes into the store: bun, deno, node@22, quickjs (python, go: Debian)");
  install->add_option("runtime", opt->install, "RT[@VERSION], e.g. deno node@22 quickjs")->required();
  cmd->callback([opt, install, &ctx] {
    ctx.exit_code = install->parsed() ? install_runtimes(opt->install) : list_runtimes(opt->json);
  });
}

}  // namespace ignite::cli
