#include "engine/steps.hpp"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "engine/step_specs.hpp"
#include "runtime/descriptors.hpp"
#include "sys/files.hpp"

namespace ignite::engine {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

bool has_suffix(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// A step's private copy of the service (input_key.hpp's Snapshot) and the key of exactly that.
struct SnapshotStep {
  std::shared_ptr<sys::TempDir> dir;
  std::shared_ptr<Snapshot> snapshot;
  std::string key;
  // The plan for `spec`: stored under the snapshot's key, checked for bound files afterwards,
  // the snapshot kept until the run is over.
  StepPlan plan(SandboxSpec spec) const {
    return StepPlan{std::move(spec), key, [snap = snapshot] { return snap->unchanged(); }, dir};
  }
};

Result<SnapshotStep> snapshot_service(const StepContext& ctx, std::string_view kind,
                                      const config::ServiceConfig& service, KeyBuilder key) {
  SnapshotStep step;
  IGNITE_TRY_ASSIGN(step.dir, ctx.cache.snapshot_dir(kind));
  step.snapshot = std::make_shared<Snapshot>();
  step.snapshot->dest = step.dir->path();
  IGNITE_TRY(key.add_tree("app", service.dir, ctx.cache.memo(), step.snapshot.get()));
  step.key = key.finish();
  return step;
}

// The snapshot at /app, and each big file bound from the live tree onto its place in it.
void add_snapshot_mounts(SandboxSpec& spec, const Snapshot& snapshot) {
  spec.mounts.push_back({snapshot.dest, "/app", false});
  for (const auto& b : snapshot.bound) spec.mounts.push_back({b.source, "/app/" + b.rel, false});
}

std::string joined(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += framed(i);
  return out;
}

}  // namespace

// A step gets the run's memory, CPU and time (no more: it runs the tenant's input, and may run
// the tenant's code), and room for the processes and files a compiler or package manager makes.
Limits step_limits(const Limits& run, std::chrono::milliseconds longest) {
  Limits l;
  l.wall_time = std::min(run.wall_time, longest);
  l.memory_bytes = run.memory_bytes;
  l.cpu_cores = run.cpu_cores;
  l.max_output_bytes = run.max_output_bytes;
  l.max_processes = std::max<std::uint32_t>(run.max_processes, 512);
  // tmpfs pages are charged to the memory limit anyway; 1 GiB is the backends' own ceiling.
  l.tmp_bytes = std::min<std::uint64_t>(run.memory_bytes, 1ull << 30);
  l.max_file_bytes = 512ull << 20;
  l.max_open_files = 4096;
  l.network = false;
  return l;
}

SandboxSpec step_spec(const runtime::Installed& rt, Limits limits) {
  SandboxSpec spec;
  spec.env = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/tmp", "TMPDIR=/tmp", "LANG=C.UTF-8"};
  spec.env.insert(spec.env.end(), rt.env.begin(), rt.env.end());
  spec.mounts = rt.mounts;
  spec.output.emplace();  // /out: what leaves the step
  spec.limits = limits;
  return spec;
}

Result<std::optional<std::string>> read_manifest(const fs::path& dir, std::string_view name, std::uint64_t max_bytes) {
  const fs::path file = dir / name;
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(file, ec))) return std::optional<std::string>{};
  auto read = sys::read_plain_file(file, max_bytes);
  if (!read && read.error().sys_errno == 0)
    return fail(ErrorCode::invalid_argument,
                std::string(name) + " must be a regular file of at most " + std::to_string(max_bytes) + " bytes");
  if (!read && read.error().sys_errno == ELOOP)
    return fail(ErrorCode::invalid_argument, std::string(name) + " is a symbolic link: install steps read only regular files");
  if (!read)
    return fail(ErrorCode::invalid_argument, "cannot read " + std::string(name) + ": " + std::strerror(read.error().sys_errno));
  return std::optional<std::string>(std::move(*read));
}

void add_egress(SandboxSpec& spec, const StepContext& ctx) {
  // Security: out through the egress proxy only — its own network namespace, so neither the
  // host's loopback services nor its abstract unix sockets are reachable.
  spec.egress = Egress{3128, ctx.egress_allow};
  for (const char* var : {"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"})
    spec.env.push_back(std::string(var) + "=http://127.0.0.1:3128");
  // Trust what the host trusts (/etc/ssl is visible with egress): hosts behind a
  // TLS-inspecting proxy add their CA there, and node ignores the system store.
  if (std::filesystem::exists("/etc/ssl/certs/ca-certificates.crt")) {
    spec.env.push_back("NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt");
    spec.env.push_back("SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt");
  }
}

bool needs_dependencies(const config::ServiceConfig& service) {
  if (service.runtime.name == "python") return !service.dependencies.empty();
  return !service.dependencies.empty() && fs::exists(service.dir / "package.json");
}

Result<Artifact> install_dependencies(const StepContext& ctx, const config::ServiceConfig& service,
                                      const runtime::Installed& rt) {
  if (rt.name == "python") return install_python_packages(ctx, service, rt);
  // The package manager: bun's for every runtime but node, which gets npm (run by node).
  const bool use_npm = rt.name == "node";
  runtime::Installed tool = rt;
  if (!use_npm) {
    IGNITE_TRY_ASSIGN(tool, ctx.catalog.resolve({"bun", ""}));
  }
  const fs::path npm_dir = "/usr/lib/node_modules/npm";
  if (use_npm && !fs::exists(npm_dir / "bin/npm-cli.js"))
    return fail(ErrorCode::unsupported, "npm is not installed (needed for node dependencies)");

  // The step sees the manifests and nothing else of the service: they are the key. Bounded:
  // they come from the service dir, and each is held in memory (and in the sandbox's /out).
  constexpr std::uint64_t kMaxManifestBytes = 16ull << 20;
  std::vector<InlineFile> manifests;
  for (const char* name : {"package.json", "package-lock.json", "bun.lock", "bun.lockb", "npm-shrinkwrap.json"}) {
    IGNITE_TRY_ASSIGN(auto read, read_manifest(service.dir, name, kMaxManifestBytes));
    if (read) manifests.push_back({name, std::move(*read)});
  }
  KeyBuilder key("deps");
  key.add("tool", tool.label() + (use_npm ? "+npm" : "+bun")).add("scripts", service.install_scripts ? "on" : "off");
  for (const auto& m : manifests) key.add(m.target.string(), m.content);

  const std::string lookup = key.finish();
  auto make_plan = [&]() -> Result<StepPlan> {
    SandboxSpec spec = step_spec(tool, step_limits(ctx.run_limits, 300s));
    spec.output->seed = manifests;
    spec.workdir = "/out";
    add_egress(spec, ctx);
    spec.env.push_back("npm_config_cache=/tmp/.npm");
    spec.env.push_back("npm_config_update_notifier=false");
    // Install scripts (when allowed) run through /bin/sh; a shell and nothing else of /usr/bin.
    spec.mounts.push_back({"/usr/bin/dash", "/usr/bin/sh", false});
    const bool locked = std::any_of(manifests.begin(), manifests.end(),
                                    [](const InlineFile& f) { return f.target == "package-lock.json"; });
    if (use_npm) {
      spec.mounts.push_back({npm_dir, npm_dir, false});
      spec.argv = {tool.sandbox_binary, (npm_dir / "bin/npm-cli.js").string(), locked ? "ci" : "install",
                   "--no-audit", "--no-fund", "--omit=dev"};
    } else {
      spec.argv = {tool.sandbox_binary, "install", "--production", "--no-progress"};
    }
    if (!service.install_scripts) spec.argv.push_back("--ignore-scripts");
    // The manifests were read once, into memory: the step sees exactly what the key covers.
    return StepPlan{std::move(spec), lookup, {}, {}};
  };
  auto verify = [](const fs::path& data) { return require_plain(data / "node_modules", true); };
  return ctx.cache.get(ctx.backend, "deps", lookup, make_plan, verify, ctx.stop);
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
                                      const runtime::Installed& rt, const Artifact* deps) {
  auto bun = ctx.catalog.resolve({"bun", ""});
  if (!bun)
    return fail(ErrorCode::unsupported, "TypeScript on " + rt.name +
                                            " is transpiled with bun, which is not installed");
  const bool node = rt.name == "node";
  // node keeps packages external (resolved from /node_modules at run time); QuickJS cannot
  // resolve bare specifiers, so everything is bundled for it.
  const std::vector<std::string> flags = {"--format", "esm", "--target", node ? "node" : "browser",
                                          "--packages", node ? "external" : "bundle"};
  auto key = [&] {
    KeyBuilder k("ts");
    k.add("bun", bun->label()).add("env", joined(bun->env)).add("runtime", rt.name).add("entry", service.entry);
    k.add("flags", joined(flags)).add("deps", deps ? deps->key : "");
    return k;
  };
  KeyBuilder lookup = key();
  IGNITE_TRY(lookup.add_tree("app", service.dir, ctx.cache.memo()));

  auto make_plan = [&]() -> Result<StepPlan> {
    IGNITE_TRY_ASSIGN(SnapshotStep step, snapshot_service(ctx, "ts", service, key()));
    SandboxSpec spec = step_spec(*bun, step_limits(ctx.run_limits, 60s));
    add_snapshot_mounts(spec, *step.snapshot);
    if (deps) spec.mounts.push_back({deps->dir / "node_modules", "/node_modules", false});
    spec.workdir = "/app";
    spec.argv = {bun->sandbox_binary, "build", "/app/" + service.entry, "--outfile", "/out/" + transpiled_name(service)};
    spec.argv.insert(spec.argv.end(), flags.begin(), flags.end());
    return step.plan(std::move(spec));
  };
  auto verify = [&](const fs::path& data) { return require_plain(data / transpiled_name(service), false); };
  return ctx.cache.get(ctx.backend, "ts", lookup.finish(), make_plan, verify, ctx.stop);
}

bool needs_compile(const runtime::Installed& rt) {
  const auto* d = runtime::find_descriptor(rt.name);
  return d && d->compiled;
}

Result<Artifact> compile_program(const StepContext& ctx, const config::ServiceConfig& service,
                                 const runtime::Installed& rt) {
  auto key = [&] {
    KeyBuilder k("go");
    k.add("go", rt.label()).add("env", joined(rt.env));
    return k;
  };
  KeyBuilder lookup = key();
  IGNITE_TRY(lookup.add_tree("app", service.dir, ctx.cache.memo()));
  auto make_plan = [&]() -> Result<StepPlan> {
    IGNITE_TRY_ASSIGN(SnapshotStep step, snapshot_service(ctx, "go", service, key()));
    const fs::path app = step.snapshot->dest;
    SandboxSpec spec = step_spec(rt, step_limits(ctx.run_limits, 120s));
    add_snapshot_mounts(spec, *step.snapshot);
    spec.workdir = "/app";
    spec.argv = {rt.sandbox_binary, "build", "-o", "/out/main"};
    // With a go.mod the package is the directory; without one, the top-level .go files.
    if (fs::exists(app / "go.mod")) {
      spec.argv.push_back(".");
    } else {
      std::vector<std::string> files;
      std::error_code ec;
      for (const auto& e : fs::directory_iterator(app, ec)) {
        const auto name = e.path().filename().string();
        if (e.is_regular_file(ec) && has_suffix(name, ".go") && !has_suffix(name, "_test.go"))
          files.push_back(name);
      }
      std::sort(files.begin(), files.end());
      spec.argv.insert(spec.argv.end(), files.begin(), files.end());
    }
    return step.plan(std::move(spec));
  };
  auto verify = [](const fs::path& data) { return require_plain(data / "main", false); };
  return ctx.cache.get(ctx.backend, "go", lookup.finish(), make_plan, verify, ctx.stop);
}

}  // namespace ignite::engine
