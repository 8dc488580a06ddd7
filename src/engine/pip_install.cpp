// A python service's packages: pip (Debian's, the host's python) installs requirements.txt, or
// the declared dependencies, into /out/site-packages of a sandboxed step; the cache keeps the
// result per key (requirements, index settings, find-links trees, interpreter and pip), and runs
// see it read-only where python's `site` looks for locally installed packages.
//
// Security: the step is the npm install's twin — its own network namespace, public addresses
// through the egress proxy only (a requirements line `--index-url http://127.0.0.1:…` reaches
// nothing of the host), the run's limits, no service file but requirements.txt and the
// findLinks dirs (copied first: they are what the key says). Building from source runs the
// package's setup.py, so sdists are refused (--only-binary) unless the service opts in with
// installScripts, as lifecycle scripts are for npm.
#include <algorithm>
#include <cstring>

#include "engine/step_specs.hpp"
#include "sys/files.hpp"
#include "sys/owned_dir.hpp"

namespace ignite::engine {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

const fs::path kDistPackages = "/usr/lib/python3/dist-packages";  // Debian's python3-pip & co.
constexpr std::uint64_t kMaxRequirementsBytes = 1ull << 20;
constexpr const char* kLinksRoot = "/opt/ignite/find-links";

// pip itself, and what a setup.py build needs when scripts are allowed.
std::vector<std::string> tool_modules(bool scripts) {
  std::vector<std::string> m = {"pip"};
  // The .pth makes setuptools' own distutils win over the standard library's.
  if (scripts) m.insert(m.end(), {"setuptools", "pkg_resources", "_distutils_hack", "distutils-precedence.pth", "wheel"});
  return m;
}

// Their metadata dirs ("setuptools-66.1.1.egg-info"): the step needs them too (setuptools finds
// its commands, egg_info and bdist_wheel among them, through their entry points), and their
// names carry the versions the key covers.
std::vector<std::string> tool_metadata(bool scripts) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(kDistPackages, ec)) {
    const std::string name = e.path().filename().string();
    const bool metadata = name.ends_with(".dist-info") || name.ends_with(".egg-info");
    for (const std::string& m : tool_modules(scripts))
      if (metadata && name.rfind(m + "-", 0) == 0) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

// The requirements pip reads: the service's requirements.txt, else the declared dependencies,
// one per line (each a requirement, never an option).
Result<std::string> requirements_text(const config::ServiceConfig& service) {
  IGNITE_TRY_ASSIGN(auto file, read_manifest(service.dir, "requirements.txt", kMaxRequirementsBytes));
  if (file) return std::move(*file);
  std::string text;
  for (const std::string& dep : service.dependencies) {
    if (dep.front() == '-')
      return fail(ErrorCode::invalid_argument, "dependency '" + dep + "' is a pip option, not a requirement");
    text += dep + "\n";
  }
  return text;
}

// The copies of the service's findLinks dirs the step reads, one snapshot each.
struct LinkCopies {
  std::shared_ptr<sys::TempDir> dir;
  std::vector<Snapshot> snapshots;
  Status unchanged() const {
    for (const Snapshot& s : snapshots) IGNITE_TRY(s.unchanged());
    return ok();
  }
};

KeyBuilder base_key(const config::ServiceConfig& service, const runtime::Installed& rt, const std::string& requirements,
                    const std::vector<std::string>& metadata) {
  KeyBuilder k("pip");
  std::string tools;
  for (const auto& name : metadata) tools += framed(name);
  k.add("python", rt.label()).add("tools", tools);
  k.add("scripts", service.install_scripts ? "on" : "off").add("requirements", requirements);
  k.add("index", service.pip.index_url).add("no-index", service.pip.no_index ? "1" : "0");
  for (const auto& link : service.pip.find_links) k.add("link", link.text);
  return k;
}

}  // namespace

std::pair<std::string, std::string> dependency_mount(const runtime::Installed& rt) {
  if (rt.name != "python") return {"node_modules", "/node_modules"};
  // "3.11.2" -> /usr/local/lib/python3.11/dist-packages: on sys.path of Debian's python,
  // ahead of /usr/lib/python3/dist-packages (so a service's pins win over a profile's).
  const auto first = rt.version.find('.');
  const auto second = first == std::string::npos ? std::string::npos : rt.version.find('.', first + 1);
  return {"site-packages", "/usr/local/lib/python" + rt.version.substr(0, second) + "/dist-packages"};
}

Result<Artifact> install_python_packages(const StepContext& ctx, const config::ServiceConfig& service,
                                         const runtime::Installed& rt) {
  if (!fs::exists(kDistPackages / "pip" / "__main__.py"))
    return fail(ErrorCode::unsupported, "pip is not installed (needed for python dependencies): apt-get install python3-pip");
  const bool scripts = service.install_scripts;
  for (const std::string& m : tool_modules(scripts))
    if (!fs::exists(kDistPackages / m))
      return fail(ErrorCode::unsupported, "installScripts for python needs " + m +
                                              ": apt-get install python3-setuptools python3-wheel");
  IGNITE_TRY_ASSIGN(const std::string requirements, requirements_text(service));
  const std::vector<std::string> metadata = tool_metadata(scripts);  // listed once: key and mounts

  KeyBuilder lookup = base_key(service, rt, requirements, metadata);
  for (std::size_t i = 0; i < service.pip.find_links.size(); ++i)
    if (!service.pip.find_links[i].dir.empty())
      IGNITE_TRY(lookup.add_tree("links/" + std::to_string(i), service.pip.find_links[i].dir, ctx.cache.memo()));

  auto make_plan = [&]() -> Result<StepPlan> {
    auto copies = std::make_shared<LinkCopies>();
    IGNITE_TRY_ASSIGN(copies->dir, ctx.cache.snapshot_dir("pip"));
    KeyBuilder key = base_key(service, rt, requirements, metadata);
    SandboxSpec spec = step_spec(rt, step_limits(ctx.run_limits, 300s));
    spec.output->seed = {{"requirements.txt", requirements}};
    spec.workdir = "/out";
    add_egress(spec, ctx);
    spec.env.push_back("PIP_CONFIG_FILE=/dev/null");  // no pip.conf of anyone's
    for (const auto& names : {tool_modules(scripts), metadata})
      for (const std::string& m : names) spec.mounts.push_back({kDistPackages / m, kDistPackages / m, false});
    spec.argv = {rt.sandbox_binary, "-E", "-s", "-m", "pip", "install", "--target", "/out/site-packages",
                 "--requirement", "/out/requirements.txt", "--no-input", "--disable-pip-version-check",
                 "--no-cache-dir", "--progress-bar", "off", "--no-warn-script-location"};
    spec.argv.push_back(scripts ? "--no-build-isolation" : "--only-binary=:all:");
    if (!service.pip.index_url.empty()) spec.argv.insert(spec.argv.end(), {"--index-url", service.pip.index_url});
    if (service.pip.no_index) spec.argv.push_back("--no-index");
    copies->snapshots.reserve(service.pip.find_links.size());
    for (std::size_t i = 0; i < service.pip.find_links.size(); ++i) {
      const auto& link = service.pip.find_links[i];
      if (link.dir.empty()) {
        spec.argv.insert(spec.argv.end(), {"--find-links", link.text});
        continue;
      }
      Snapshot& snap = copies->snapshots.emplace_back();
      snap.dest = copies->dir->path() / std::to_string(i);
      IGNITE_TRY(sys::ensure_owned_dir(snap.dest, 0755));
      IGNITE_TRY(key.add_tree("links/" + std::to_string(i), link.dir, ctx.cache.memo(), &snap));
      const std::string target = std::string(kLinksRoot) + "/" + std::to_string(i);
      spec.mounts.push_back({snap.dest, target, false});
      for (const auto& b : snap.bound) spec.mounts.push_back({b.source, target + "/" + b.rel, false});
      spec.argv.insert(spec.argv.end(), {"--find-links", target});
    }
    return StepPlan{std::move(spec), key.finish(), [copies] { return copies->unchanged(); }, copies};
  };
  auto verify = [](const fs::path& data) { return require_plain(data / "site-packages", true); };
  return ctx.cache.get(ctx.backend, "pip", lookup.finish(), make_plan, verify, ctx.stop);
}

}  // namespace ignite::engine
