#include "runtime/catalog.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <map>
#include <mutex>

#include "runtime/descriptors.hpp"
#include "runtime/probe_cache.hpp"
#include "runtime/installer_process.hpp"

namespace ignite::runtime {
namespace {

namespace fs = std::filesystem;

std::uint64_t walk_bytes(const fs::path& p) {
  std::error_code ec;
  if (fs::is_regular_file(p, ec)) return fs::file_size(p, ec);
  std::uint64_t total = 0;
  for (auto it = fs::recursive_directory_iterator(p, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_regular_file(ec) && !it->is_symlink(ec)) total += it->file_size(ec);
  }
  return total;
}

// Walking a stdlib takes tens of milliseconds; its size only changes with its mtime.
std::uint64_t tree_bytes(const fs::path& p, ProbeCache& cache) {
  if (auto known = cache.get("bytes", p)) return std::strtoull(known->c_str(), nullptr, 10);
  const std::uint64_t bytes = walk_bytes(p);
  cache.put("bytes", p, std::to_string(bytes));
  return bytes;
}

// Versions compare numerically component by component ("1.10.0" > "1.9.3").
bool version_less(const std::string& a, const std::string& b) {
  auto parts = [](const std::string& v) {
    std::vector<long> out;
    std::size_t i = 0;
    while (i < v.size()) {
      out.push_back(std::strtol(v.c_str() + i, nullptr, 10));
      i = v.find('.', i);
      if (i == std::string::npos) break;
      ++i;
    }
    return out;
  };
  return parts(a) < parts(b);
}

bool version_matches(const std::string& version, const std::string& prefix) {
  if (prefix.empty()) return true;
  return version == prefix ||
         (version.size() > prefix.size() && version.compare(0, prefix.size(), prefix) == 0 &&
          version[prefix.size()] == '.');
}

// Runs `<binary> --version` once per binary per process (system runtimes carry no version in
// their path). Returns "" when it cannot be run.
std::string probe_version(const fs::path& binary, ProbeCache& cache) {
  if (auto known = cache.get("version", binary)) return *known;
  // Most runtimes answer `--version`; Go answers only `version`. An argv, not a shell string:
  // the path may contain anything.
  std::string out;
  for (const char* arg : {"--version", "version"}) {
    auto run = run_command({{binary.string(), arg}, {}, {}, std::chrono::seconds(30)});
    if (run && run->ok() && !run->out.empty()) {
      out = run->out;
      break;
    }
  }
  // "v20.20.2", "Python 3.11.2", "go version go1.19.8 linux/amd64" -> the first dotted number.
  std::string version;
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (std::isdigit(static_cast<unsigned char>(out[i]))) {
      std::size_t j = i;
      while (j < out.size() && (std::isdigit(static_cast<unsigned char>(out[j])) || out[j] == '.')) ++j;
      version = out.substr(i, j - i);
      break;
    }
  }
  if (!version.empty()) cache.put("version", binary, version);
  return version;
}

// Expands a trailing '*' in the last path component ("/usr/lib/python3*").
std::vector<fs::path> expand_mount(const std::string& pattern) {
  if (pattern.empty() || pattern.back() != '*') return {pattern};
  const fs::path p(pattern);
  const std::string prefix = p.filename().string().substr(0, p.filename().string().size() - 1);
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(p.parent_path(), ec)) {
    if (e.path().filename().string().rfind(prefix, 0) == 0 && e.is_directory(ec)) out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

Installed make_installed(const Descriptor& d, const std::string& version, const fs::path& binary,
                         const fs::path& home, ProbeCache& cache) {
  Installed rt{d.name, version, binary, {}, {}, d.env, d.baseline_mb, 0, {}};
  // Security: only the runtime itself and the shared libraries it links are visible.
  for (const char* lib : {"/usr/lib/x86_64-linux-gnu", "/usr/lib64"}) {
    if (fs::exists(lib)) rt.mounts.push_back({lib, lib, false});
  }
  std::error_code ec;
  const fs::path real = fs::canonical(binary, ec);
  fs::path counted;
  if (!home.empty()) {  // a store install: its whole directory, at a fixed place
    rt.sandbox_binary = (fs::path(d.store_mount) / d.store_binary).string();
    rt.mounts.push_back({home, d.store_mount, false});
    counted = home;
  } else if (d.system_goroot) {  // a toolchain: its root (bin/, pkg/, src/) where it lives
    counted = real.parent_path().parent_path();
    rt.sandbox_binary = real.string();
    rt.mounts.push_back({counted, counted, false});
    rt.env.push_back("GOROOT=" + counted.string());
    // Debian's GOROOT links src/, pkg/include and friends into /usr/share: bind those targets
    // where the links expect them.
    for (auto it = fs::recursive_directory_iterator(counted, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (it.depth() > 1) it.disable_recursion_pending();
      if (!it->is_symlink(ec)) continue;
      const fs::path target = fs::canonical(it->path(), ec);
      if (!ec && fs::is_directory(target)) rt.mounts.push_back({target, target, false});
      ec.clear();
    }
  } else {  // a single system binary
    rt.sandbox_binary = "/usr/bin/" + d.system_binary;
    rt.mounts.push_back({real, rt.sandbox_binary, false});
    counted = real;
  }
  rt.install_bytes = tree_bytes(counted, cache);
  for (const auto& pattern : d.extra_mounts) {
    for (const auto& extra : expand_mount(pattern)) {
      rt.mounts.push_back({extra, extra, false});
      rt.install_bytes += tree_bytes(extra, cache);
    }
  }
  for (const auto& [name, pd] : d.profiles) {
    Installed::Profile& p = rt.profiles[name];
    p.description = pd.description;
    p.hint = pd.hint;
    p.env = pd.env;
    p.baseline_mb = pd.baseline_mb;
    p.available = std::all_of(pd.requires_paths.begin(), pd.requires_paths.end(),
                              [](const std::string& path) { return fs::exists(path); });
    for (const auto& extra : pd.extra_mounts) {
      // A link (Debian's alternatives: libblas.so.3) is bound as what it points to, where it is.
      const fs::path source = fs::canonical(extra, ec);
      if (ec) {
        ec.clear();
        continue;
      }
      p.mounts.push_back({source, extra, false});
    }
  }
  for (auto& m : rt.mounts) m.runtime = true;  // a profile's are not in the runtime's image
  return rt;
}

}  // namespace

Catalog::Catalog(CatalogRoots roots)
    : roots_(std::move(roots)), probes_(std::make_shared<ProbeCache>(roots_.store / ".probe-cache")) {}

CatalogRoots default_roots() {
  CatalogRoots roots;
  if (const char* s = std::getenv("IGNITE_RUNTIME_STORE"); s && *s) {
    roots.store = s;
  } else {
    const char* home = std::getenv("HOME");
    roots.store = fs::path(home && *home ? home : "/root") / ".local/share/ignite/runtimes";
  }
  return roots;
}

std::vector<Installed> Catalog::installed_versions(const Descriptor& d) const {
  std::vector<Installed> found;
  std::error_code ec;
  // Store installs: <store>/<name>/<version>/<binary_in_store>.
  for (const auto& entry : fs::directory_iterator(roots_.store / d.name, ec)) {
    const fs::path bin = entry.path() / d.store_binary;
    if (!d.store_binary.empty() && fs::is_regular_file(bin))
      found.push_back(
          make_installed(d, entry.path().filename().string(), bin, entry.path(), *probes_));
  }
  // System installs (Debian's python3, node): the version comes from the binary itself.
  if (!d.system_binary.empty()) {
    const fs::path bin = roots_.system_bin / d.system_binary;
    if (fs::is_regular_file(bin)) {
      std::string v = probe_version(bin, *probes_);
      if (!v.empty()) found.push_back(make_installed(d, v, bin, {}, *probes_));
    }
  }
  std::sort(found.begin(), found.end(),
            [](const Installed& a, const Installed& b) { return version_less(b.version, a.version); });
  return found;
}

std::vector<Installed> Catalog::list() const {
  std::vector<Installed> all;
  for (const auto& d : descriptors()) {
    for (auto& f : installed_versions(d)) all.push_back(std::move(f));
  }
  return all;
}

Result<Installed> Catalog::resolve(const config::RuntimeRef& ref) const {
  std::string installed;
  const Descriptor* d = find_descriptor(ref.name);
  // Only this runtime's versions: probing the others (`node --version`...) costs a run time.
  for (auto& rt : d ? installed_versions(*d) : std::vector<Installed>{}) {
    if (version_matches(rt.version, ref.version)) return rt;
    installed += (installed.empty() ? "" : ", ") + rt.label();
  }
  std::string msg = "runtime " + ref.to_string() + " is not installed";
  msg += installed.empty() ? " (no version of " + ref.name + " is installed)"
                           : " (installed: " + installed + ")";
  msg += "; install it with scripts/install-deps or `ignite runtimes install " + ref.to_string() + "`";
  return fail(ErrorCode::unsupported, msg);
}

std::vector<std::string> argv_for(const Installed& rt, const std::string& entry) {
  std::vector<std::string> argv{rt.sandbox_binary};
  if (const Descriptor* d = find_descriptor(rt.name))
    argv.insert(argv.end(), d->args.begin(), d->args.end());
  argv.push_back(entry);
  return argv;
}

}  // namespace ignite::runtime
