// The installer's steps that run other programs: ask npm for versions, `npm pack` a package
// (which never runs its install scripts), extract it with tar, build QuickJS with make, and
// run the result once before it goes into the store.
#include <algorithm>

#include "runtime/catalog.hpp"
#include "runtime/installer.hpp"
#include "runtime/installer_process.hpp"
#include "sys/files.hpp"
#include "sys/temp_dir.hpp"

namespace ignite::runtime {
namespace {

namespace fs = std::filesystem;
using std::chrono::seconds;

Command npm(std::vector<std::string> args, seconds timeout) {
  Command c;
  c.argv = {"npm"};
  c.argv.insert(c.argv.end(), args.begin(), args.end());
  // Only the answer on stdout matters; no update, funding or audit chatter.
  c.extra_env = {"npm_config_update_notifier=false", "npm_config_fund=false",
                 "npm_config_audit=false", "npm_config_loglevel=error"};
  c.timeout = timeout;
  return c;
}

Result<CommandOutput> run_ok(const Command& c, std::string_view step) {
  IGNITE_TRY_ASSIGN(CommandOutput out, run_command(c));
  // npm states the cause first ("npm error code E404"); make and compilers end with it.
  const Excerpt excerpt = c.argv[0] == "npm" ? Excerpt::head : Excerpt::tail;
  if (!out.ok()) return fail(ErrorCode::unavailable, std::string(step) + ": " + describe_failure(c, out, excerpt));
  return out;
}

Result<std::vector<std::string>> registry_versions(const std::string& package) {
  IGNITE_TRY_ASSIGN(CommandOutput out,
                    run_ok(npm({"view", package, "versions", "--json"}, seconds(120)),
                           "list the versions of " + package));
  return parse_npm_versions(out.out);
}

// A version from the registry becomes a directory name: letters, digits, '.', '-' only.
bool safe_version(std::string_view v) {
  return !v.empty() && v.size() <= 64 && v.front() != '.' && v.front() != '-' &&
         std::all_of(v.begin(), v.end(), [](char c) {
           return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-';
         });
}

// `npm pack <spec>` into `dir`: the registry tarball, no lifecycle scripts run.
Result<fs::path> npm_pack(const std::string& spec, const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return fail(Error::from_errno("create " + dir.string(), ec.value()));
  IGNITE_TRY(run_ok(npm({"pack", "--silent", "--ignore-scripts", "--pack-destination", dir.string(), spec},
                        seconds(900)),
                    "download " + spec));
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().extension() == ".tgz") return e.path();
  }
  return fail(ErrorCode::internal, "download " + spec + ": npm pack left no tarball");
}

// Extracts `members` (all when empty) of a tarball. GNU tar refuses members with "..", and
// --no-same-owner keeps the registry's uids out of the store.
Status extract(const fs::path& tgz, const fs::path& into, const std::vector<std::string>& members) {
  std::error_code ec;
  fs::create_directories(into, ec);
  if (ec) return fail(Error::from_errno("create " + into.string(), ec.value()));
  Command c{{"tar", "-xzf", tgz.string(), "-C", into.string(), "--no-same-owner"}, {}, {}, seconds(300)};
  c.argv.insert(c.argv.end(), members.begin(), members.end());
  IGNITE_TRY(run_ok(c, "extract " + tgz.filename().string()));
  return ok();
}

// Runs an installed binary once; `expect` must appear in what it prints.
Status verify_runs(Command c, std::string_view expect) {
  c.timeout = seconds(60);
  IGNITE_TRY_ASSIGN(CommandOutput out, run_ok(c, "verify " + c.argv[0]));
  if ((out.out + out.err).find(expect) == std::string::npos) {
    return fail(ErrorCode::internal, "verify " + c.argv[0] + ": expected '" + std::string(expect) +
                                         "' in its output, got: " + out.out + out.err);
  }
  return ok();
}

bool runs_version(const fs::path& binary) {
  auto out = run_command({{binary.string(), "--version"}, {}, {}, seconds(60)});
  return out && out->ok();
}

// Store versions of `d` matching `prefix`, newest first (for offline re-runs).
std::optional<Installed> newest_in_store(const Descriptor& d, const fs::path& store,
                                         std::string_view prefix) {
  // An empty system root: only the store counts here.
  auto rt = Catalog({store, store / ".no-system"}).resolve({d.name, std::string(prefix)});
  if (!rt) return std::nullopt;
  return *rt;
}

// Writes the bootstrap next to bin/ when missing or stale (it changes with Ignite, not QuickJS).
Status refresh_bootstrap(const fs::path& dir) {
  const fs::path path = dir / "bootstrap.mjs";
  auto current = sys::read_file(path);
  if (current && *current == quickjs_bootstrap()) return ok();
  const fs::path tmp = dir / ".bootstrap.mjs.partial";
  std::error_code ec;
  fs::remove(tmp, ec);
  IGNITE_TRY(sys::write_new_file(tmp, quickjs_bootstrap(), 0644));
  fs::rename(tmp, path, ec);
  if (ec) return fail(Error::from_errno("rename " + tmp.string(), ec.value()));
  return ok();
}

std::string read_or_empty(const fs::path& path) {
  auto text = sys::read_file(path);
  return text ? *text : std::string();
}

const char* kVerifyScript = "console.log(process.env.IGNITE_VERIFY, { ok: true });\n";

}  // namespace

void Installer::say(const std::string& line) const {
  if (opt_.progress) opt_.progress(line);
}

Result<InstallOutcome> Installer::install(const Descriptor& d, std::string_view prefix) const {
  if (d.install.kind == "npm-binary") return install_npm_binary(d, prefix);
  if (d.install.kind == "npm-source") return install_npm_source(d, prefix);
  if (d.install.kind == "system") return check_system(d, prefix);
  return fail(ErrorCode::unsupported, d.name + ": unknown install kind '" + d.install.kind + "'");
}

Result<InstallOutcome> Installer::install_npm_binary(const Descriptor& d, std::string_view prefix) const {
  std::string package = d.install.package;
  if (!d.install.baseline_package.empty()) {
    const bool avx2 = opt_.avx2 ? *opt_.avx2 : cpu_has_avx2(read_or_empty("/proc/cpuinfo"));
    if (!avx2) package = d.install.baseline_package;  // builds for CPUs without AVX2
  }
  const std::string wanted = prefix.empty() ? "latest" : std::string(prefix);
  say("resolving " + package + "@" + wanted);
  auto versions = registry_versions(package);
  if (!versions) {
    // Offline: a matching version already in the store is what the user gets anyway.
    if (auto local = newest_in_store(d, opt_.store, prefix)) {
      return InstallOutcome{InstallOutcome::Kind::already_present, d.name, local->version, local->binary,
                            "could not ask the npm registry for newer versions: " + versions.error().message};
    }
    return fail(std::move(versions).error());
  }
  const auto version = newest_matching(*versions, prefix);
  if (!version) {
    const auto newest = newest_matching(*versions, "");
    return fail(ErrorCode::invalid_argument,
                "no version of " + d.name + " matches '" + wanted + "' (npm package " + package +
                    (newest ? "; newest is " + *newest : "; it has no releases") + ")");
  }
  if (!safe_version(*version)) return fail(ErrorCode::internal, "unusable version '" + *version + "'");
  const fs::path dest = opt_.store / d.name / *version;
  auto valid = [&](const fs::path& dir) { return runs_version(dir / d.store_binary); };
  if (fs::is_regular_file(dest / d.store_binary) && valid(dest)) {
    return InstallOutcome{InstallOutcome::Kind::already_present, d.name, *version, dest / d.store_binary, ""};
  }
  // The download lands next to the store (its own work dir); the tarball is gone with it.
  IGNITE_TRY_ASSIGN(sys::TempDir work, sys::TempDir::create(opt_.store / ".staging", d.name + "-" + *version + "-"));
  say("downloading " + package + "@" + *version);
  IGNITE_TRY_ASSIGN(fs::path tgz, npm_pack(package + "@" + *version, work.path() / "pack"));
  return install_binary_tarball(d, tgz, *version);
}

Result<InstallOutcome> Installer::install_binary_tarball(const Descriptor& d, const fs::path& tgz,
                                                         const std::string& version) const {
  if (!safe_version(version)) return fail(ErrorCode::invalid_argument, "unusable version '" + version + "'");
  IGNITE_TRY_ASSIGN(sys::TempDir work, sys::TempDir::create(opt_.store / ".staging", d.name + "-" + version + "-"));
  IGNITE_TRY(extract(tgz, work.path() / "x", {d.install.file}));
  const fs::path stage = work.path() / "stage";
  IGNITE_TRY(stage_file(work.path() / "x" / d.install.file, stage, d.store_binary));
  IGNITE_TRY(verify_runs({{(stage / d.store_binary).string(), "--version"}, {}, {}, {}}, version));
  const fs::path dest = opt_.store / d.name / version;
  IGNITE_TRY(commit_staged(stage, dest, [&](const fs::path& dir) { return runs_version(dir / d.store_binary); }));
  return InstallOutcome{InstallOutcome::Kind::installed, d.name, version, dest / d.store_binary, ""};
}

Result<InstallOutcome> Installer::install_npm_source(const Descriptor& d, std::string_view prefix) const {
  // The sources in the package change rarely (QuickJS releases are years apart), so a matching
  // build in the store is kept without asking the registry; remove its directory to rebuild.
  if (auto local = newest_in_store(d, opt_.store, prefix)) {
    const fs::path dir = opt_.store / d.name / local->version;
    IGNITE_TRY(refresh_bootstrap(dir));
    return InstallOutcome{InstallOutcome::Kind::already_present, d.name, local->version, local->binary, ""};
  }
  const std::string package = d.install.package;
  say("resolving " + package + "@latest");
  IGNITE_TRY_ASSIGN(std::vector<std::string> versions, registry_versions(package));
  const auto pkg_version = newest_matching(versions, "");
  if (!pkg_version) return fail(ErrorCode::unavailable, "npm package " + package + " has no releases");
  IGNITE_TRY_ASSIGN(sys::TempDir work, sys::TempDir::create(opt_.store / ".staging", d.name + "-"));
  say("downloading " + package + "@" + *pkg_version + " (QuickJS sources)");
  IGNITE_TRY_ASSIGN(fs::path tgz, npm_pack(package + "@" + *pkg_version, work.path() / "pack"));
  IGNITE_TRY(extract(tgz, work.path() / "x", {}));
  IGNITE_TRY_ASSIGN(fs::path src, find_one_dir(work.path() / "x", d.install.source_glob));
  const std::string version = quickjs_store_version(read_or_empty(src / "VERSION"));
  if (version.empty()) return fail(ErrorCode::internal, src.filename().string() + " has no usable VERSION file");
  if (!newest_matching({version}, prefix)) {
    return fail(ErrorCode::invalid_argument, "no version of " + d.name + " matches '" + std::string(prefix) +
                                                 "': " + package + "@" + *pkg_version + " carries QuickJS " +
                                                 version + " only");
  }
  say("building QuickJS " + version + " from source (make " + d.install.make_target + ", about a minute)");
  IGNITE_TRY(run_ok({{"make", "-j2", d.install.make_target}, src, {}, seconds(1800)}, "build QuickJS"));
  const fs::path stage = work.path() / "stage";
  const fs::path built = src / d.install.make_target;
  IGNITE_TRY(stage_file(built, stage, d.store_binary));
  IGNITE_TRY(sys::write_new_file(work.path() / "bootstrap.mjs", quickjs_bootstrap(), 0644));
  IGNITE_TRY(stage_file(work.path() / "bootstrap.mjs", stage, "bootstrap.mjs", false));
  // The real check: qjs runs the bootstrap, which runs a module that reads process.env.
  IGNITE_TRY(sys::write_new_file(work.path() / "verify.mjs", kVerifyScript, 0644));
  IGNITE_TRY(verify_runs({{(stage / d.store_binary).string(), "--std", "-m", (stage / "bootstrap.mjs").string(),
                           (work.path() / "verify.mjs").string()},
                          {}, {"IGNITE_VERIFY=quickjs"}, {}},
                         "quickjs { ok: true }"));
  const fs::path dest = opt_.store / d.name / version;
  IGNITE_TRY(commit_staged(stage, dest, [&](const fs::path& dir) { return fs::is_regular_file(dir / d.store_binary); }));
  return InstallOutcome{InstallOutcome::Kind::installed, d.name, version, dest / d.store_binary, ""};
}

Result<InstallOutcome> Installer::check_system(const Descriptor& d, std::string_view prefix) const {
  const Catalog catalog({opt_.store, opt_.system_bin});
  if (auto rt = catalog.resolve({d.name, std::string(prefix)})) {
    return InstallOutcome{InstallOutcome::Kind::system, d.name, rt->version, rt->binary, ""};
  }
  std::string have;
  for (const auto& rt : catalog.list()) {
    if (rt.name == d.name) have += (have.empty() ? "" : ", ") + rt.version;
  }
  const std::string what = prefix.empty() ? d.name : d.name + "@" + std::string(prefix);
  return fail(ErrorCode::unsupported,
              what + (have.empty() ? " is not installed" : " is not available (the system has " + have + ")") +
                  "; it comes from the system's packages: " + d.install.hint);
}

}  // namespace ignite::runtime
