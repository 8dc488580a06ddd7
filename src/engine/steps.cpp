#include "engine/steps.hpp"

#include <algorithm>

#include "runtime/descriptors.hpp"
#include "sys/files.hpp"
#include "sys/sha256.hpp"

namespace ignite::engine {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Limits of build steps: more generous than a run (compilers are hungry), still bounded.
Limits step_limits(std::chrono::milliseconds wall, bool network) {
  Limits l;
  l.wall_time = wall;
  l.memory_bytes = 2ull << 30;
  l.cpu_cores = 2;
  l.max_processes = 512;
  l.tmp_bytes = 1ull << 30;
  l.max_file_bytes = 512ull << 20;
  l.max_open_files = 4096;
  l.network = network;
  return l;
}

SandboxSpec step_spec(const runtime::Installed& rt, const fs::path& out, Limits limits) {
  SandboxSpec spec;
  spec.env = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/tmp", "TMPDIR=/tmp", "LANG=C.UTF-8"};
  spec.env.insert(spec.env.end(), rt.env.begin(), rt.env.end());
  spec.mounts = rt.mounts;
  spec.mounts.push_back({out, "/out", true});
  spec.limits = limits;
  return spec;
}

bool has_suffix(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

bool needs_dependencies(const config::ServiceConfig& service) {
  return !service.dependencies.empty() && fs::exists(service.dir / "package.json");
}

Result<Artifact> install_dependencies(const StepContext& ctx, const config::ServiceConfig& service,
                                      const runtime::Installed& rt) {
  // The package manager: bun's for every runtime but node, which gets npm (run by node).
  const bool use_npm = rt.name == "node";
  runtime::Installed tool = rt;
  if (!use_npm) {
    IGNITE_TRY_ASSIGN(tool, ctx.catalog.resolve({"bun", ""}));
  }
  const fs::path npm_dir = "/usr/lib/node_modules/npm";
  if (use_npm && !fs::exists(npm_dir / "bin/npm-cli.js"))
    return fail(ErrorCode::unsupported, "npm is not installed (needed for node dependencies)");

  // The key covers exactly what decides the install: the manifests and the tool.
  std::string salt = tool.label() + (use_npm ? "+npm" : "+bun");
  std::vector<std::string> manifests = {"package.json"};
  for (const char* lock : {"package-lock.json", "bun.lock", "bun.lockb", "npm-shrinkwrap.json"}) {
    if (fs::is_regular_file(service.dir / lock)) manifests.push_back(lock);
  }
  std::string material = salt;
  for (const auto& m : manifests) {
    IGNITE_TRY_ASSIGN(std::string text, sys::read_file(service.dir / m));
    material += '\0' + m + '\0' + text;
  }
  sys::Sha256 hash;
  hash.update(material);
  const std::string key = hash.hex();

  auto make_spec = [&](const fs::path& out) {
    for (const auto& m : manifests) {
      auto text = sys::read_file(service.dir / m);
      if (text) (void)sys::write_new_file(out / m, *text);
    }
    // Network is on for this step only; it still runs sandboxed (a hostile postinstall can
    // write only inside /out and /tmp).
    SandboxSpec spec = step_spec(tool, out, step_limits(300s, true));
    spec.workdir = "/out";
    spec.env.push_back("npm_config_cache=/tmp/.npm");
    // Trust what the host trusts (/etc/ssl is visible in network-enabled sandboxes): hosts
    // behind a TLS-inspecting proxy add their CA there, and node ignores the system store.
    if (fs::exists("/etc/ssl/certs/ca-certificates.crt")) {
      spec.env.push_back("NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt");
      spec.env.push_back("SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt");
    }
    spec.env.push_back("npm_config_update_notifier=false");
    // Install scripts run through /bin/sh; give them a shell and nothing else of /usr/bin.
    spec.mounts.push_back({"/usr/bin/dash", "/usr/bin/sh", false});
    if (use_npm) {
      spec.mounts.push_back({npm_dir, npm_dir, false});
      const bool locked = std::find(manifests.begin(), manifests.end(), "package-lock.json") != manifests.end();
      spec.argv = {tool.sandbox_binary, (npm_dir / "bin/npm-cli.js").string(), locked ? "ci" : "install",
                   "--no-audit", "--no-fund", "--omit=dev"};
    } else {
      spec.argv = {tool.sandbox_binary, "install", "--production", "--no-progress"};
    }
    return spec;
  };
  auto verify = [](const fs::path& out) { return require_plain(out / "node_modules", true); };
  return cached_artifact(ctx.backend, ctx.cache_root / "deps", key, make_spec, verify, ctx.stop);
}

bool needs_transpile(const config::ServiceConfig& service, const runtime::Installed& rt) {
  return (rt.name == "node" || rt.name == "quickjs") &&
         (has_suffix(service.entry, ".ts") || has_suffix(service.entry, ".tsx") ||
          has_suffix(service.entry, ".mts"));
}

std::string transpiled_name(const config::ServiceConfig& service) {
  return fs::path(service.entry).stem().string() + ".mjs";
}

Result<Artifact> transpile_typescript(const StepContext& ctx, const config::ServiceConfig& service,
                                      const runtime::Installed& rt, const fs::path& node_modules) {
  auto bun = ctx.catalog.resolve({"bun", ""});
  if (!bun)
    return fail(ErrorCode::unsupported, "TypeScript on " + rt.name +
                                            " is transpiled with bun, which is not installed");
  const bool node = rt.name == "node";
  IGNITE_TRY_ASSIGN(std::string key, hash_tree(service.dir, bun->label() + "|ts|" + rt.name + "|" +
                                                                service.entry + "|" +
                                                                node_modules.string()));
  auto make_spec = [&](const fs::path& out) {
    SandboxSpec spec = step_spec(*bun, out, step_limits(60s, false));
    spec.mounts.push_back({service.dir, "/app", false});
    if (!node_modules.empty()) spec.mounts.push_back({node_modules, "/node_modules", false});
    spec.workdir = "/app";
    // node keeps packages external (resolved from /node_modules at run time); QuickJS cannot
    // resolve bare specifiers, so everything is bundled for it.
    spec.argv = {bun->sandbox_binary, "build", "/app/" + service.entry, "--outfile",
                 "/out/" + transpiled_name(service), "--format", "esm", "--target",
                 node ? "node" : "browser", "--packages", node ? "external" : "bundle"};
    return spec;
  };
  auto verify = [&](const fs::path& out) { return require_plain(out / transpiled_name(service), false); };
  return cached_artifact(ctx.backend, ctx.cache_root / "ts", key, make_spec, verify, ctx.stop);
}

bool needs_compile(const runtime::Installed& rt) {
  const auto* d = runtime::find_descriptor(rt.name);
  return d && d->compiled;
}

Result<Artifact> compile_program(const StepContext& ctx, const config::ServiceConfig& service,
                                 const runtime::Installed& rt) {
  IGNITE_TRY_ASSIGN(std::string key, hash_tree(service.dir, rt.label() + "|go"));
  auto make_spec = [&](const fs::path& out) {
    SandboxSpec spec = step_spec(rt, out, step_limits(120s, false));
    spec.mounts.push_back({service.dir, "/app", false});
    spec.workdir = "/app";
    spec.argv = {rt.sandbox_binary, "build", "-o", "/out/main"};
    // With a go.mod the package is the directory; without one, the top-level .go files.
    if (fs::exists(service.dir / "go.mod")) {
      spec.argv.push_back(".");
    } else {
      std::vector<std::string> files;
      std::error_code ec;
      for (const auto& e : fs::directory_iterator(service.dir, ec)) {
        const auto name = e.path().filename().string();
        if (e.is_regular_file(ec) && has_suffix(name, ".go") && !has_suffix(name, "_test.go"))
          files.push_back(name);
      }
      std::sort(files.begin(), files.end());
      spec.argv.insert(spec.argv.end(), files.begin(), files.end());
    }
    return spec;
  };
  auto verify = [](const fs::path& out) { return require_plain(out / "main", false); };
  return cached_artifact(ctx.backend, ctx.cache_root / "go", key, make_spec, verify, ctx.stop);
}

}  // namespace ignite::engine
