// The sandboxed steps before a program runs: dependency install, TypeScript transpile, Go build.
// Each returns an Artifact from the content-addressed cache (see build_cache.hpp).
#pragma once
#include <stop_token>

#include "config/service_config.hpp"
#include "engine/build_cache.hpp"
#include "runtime/catalog.hpp"

namespace ignite::engine {

struct StepContext {
  sandbox::Backend& backend;
  const runtime::Catalog& catalog;
  std::filesystem::path cache_root;
  std::stop_token stop;
};

// package.json with dependencies -> node_modules (network on for this step only).
bool needs_dependencies(const config::ServiceConfig& service);
Result<Artifact> install_dependencies(const StepContext& ctx, const config::ServiceConfig& service,
                                      const runtime::Installed& rt);

// A .ts entry on a runtime without native TypeScript (node, quickjs): bundled by bun into
// <artifact>/<stem>.mjs. `node_modules` (may be empty) is visible to the bundler.
bool needs_transpile(const config::ServiceConfig& service, const runtime::Installed& rt);
Result<Artifact> transpile_typescript(const StepContext& ctx, const config::ServiceConfig& service,
                                      const runtime::Installed& rt,
                                      const std::filesystem::path& node_modules);
std::string transpiled_name(const config::ServiceConfig& service);

// Compiled runtimes (go): the static binary at <artifact>/main.
bool needs_compile(const runtime::Installed& rt);
Result<Artifact> compile_program(const StepContext& ctx, const config::ServiceConfig& service,
                                 const runtime::Installed& rt);

}  // namespace ignite::engine
