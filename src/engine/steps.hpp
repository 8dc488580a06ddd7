// The sandboxed steps before a program runs: dependency install, TypeScript bundling, Go build.
// Each returns an Artifact from the build cache (build_cache.hpp).
//
// Security: every step is a run of the tenant's input in the same sandbox as the program, with
// limits no greater than the run's own (memory, time, CPU) and no network; the install step
// alone reaches out, through the egress proxy (public addresses only). Bun bundling can run
// the tenant's code at build time (macros; bun 1.3.4's --no-macros does not stop `bun build`),
// which is why a bundle is treated as a run like any other.
#pragma once
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include "config/service_config.hpp"
#include "engine/build_cache.hpp"
#include "runtime/catalog.hpp"

namespace ignite::engine {

struct StepContext {
  sandbox::Backend& backend;
  const runtime::Catalog& catalog;
  BuildCache& cache;
  Limits run_limits;                       // the run's own: no step gets more
  std::vector<std::string> egress_allow;  // networks installs may reach besides public ones
  std::stop_token stop;
};

// package.json with dependencies -> node_modules; for python, requirements.txt (or the declared
// dependencies) -> site-packages, by pip (pip_install.cpp). Lifecycle scripts (setup.py builds
// for python) run only when the service opts in (`installScripts: true`).
bool needs_dependencies(const config::ServiceConfig& service);
Result<Artifact> install_dependencies(const StepContext& ctx, const config::ServiceConfig& service,
                                      const runtime::Installed& rt);
Result<Artifact> install_python_packages(const StepContext& ctx, const config::ServiceConfig& service,
                                         const runtime::Installed& rt);

// Where a run sees its dependency artifact: {the dir in the artifact, the path in the sandbox}.
// Python's is a directory its `site` adds to sys.path by itself (-E ignores PYTHONPATH).
std::pair<std::string, std::string> dependency_mount(const runtime::Installed& rt);

// A .ts entry on a runtime without native TypeScript (node, quickjs): bundled by bun into
// <artifact>/<stem>.mjs. `deps` (may be null) is visible to the bundler at /node_modules.
bool needs_transpile(const config::ServiceConfig& service, const runtime::Installed& rt);
Result<Artifact> transpile_typescript(const StepContext& ctx, const config::ServiceConfig& service,
                                      const runtime::Installed& rt, const Artifact* deps);
std::string transpiled_name(const config::ServiceConfig& service);

// Compiled runtimes (go): the static binary at <artifact>/main.
bool needs_compile(const runtime::Installed& rt);
Result<Artifact> compile_program(const StepContext& ctx, const config::ServiceConfig& service,
                                 const runtime::Installed& rt);

}  // namespace ignite::engine
