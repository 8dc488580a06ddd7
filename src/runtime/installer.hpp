// Runtime installer: puts a runtime into the store as <store>/<name>/<version>/<store.binary>,
// the layout Catalog reads (scripts/install-deps writes the same one). npm-binary runtimes
// (bun, deno, node pins) come from their npm package, quickjs is built from the sources in
// the npm `qjsc` package, and system runtimes (python, go) are only checked for.
#pragma once
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "runtime/descriptors.hpp"

namespace ignite::runtime {

// ---- pure helpers (unit-tested without network) ----

// The versions in `npm view <pkg> versions --json` output: an array, or one string when the
// package has a single version. Fails on anything else.
Result<std::vector<std::string>> parse_npm_versions(std::string_view json);

// The newest of `versions` matching `prefix` by whole components ("22" -> 22.x, "1.3" -> 1.3.x,
// "" -> any). Pre-releases ("1.4.0-canary.1") only match when named exactly. nullopt if none.
std::optional<std::string> newest_matching(const std::vector<std::string>& versions,
                                           std::string_view prefix);

// QuickJS's VERSION file ("2021-03-27\n") as a store version ("2021.03.27"): dotted, so pins
// and ordering work like every other runtime's. "" when it is not a date-like version.
std::string quickjs_store_version(std::string_view version_file);

// True when /proc/cpuinfo text lists the avx2 flag (bun's default build needs it).
bool cpu_has_avx2(std::string_view cpuinfo);

// The one directory under `root` matching `pattern` ("package/deps/quickjs_*": '*' only in the
// last component). Fails when there is none or more than one.
Result<std::filesystem::path> find_one_dir(const std::filesystem::path& root,
                                           std::string_view pattern);

// ---- store layout ----

// Copies `from` to `<stage>/<relative>` with mode 0755 (dirs 0755): a store file.
Status stage_file(const std::filesystem::path& from, const std::filesystem::path& stage,
                  const std::filesystem::path& relative, bool executable = true);

// Moves a complete staged version directory to `dest` (<store>/<name>/<version>) with one
// rename(2), so the catalog never sees half an install. A `dest` left by a broken install is
// replaced; a valid one that appeared meanwhile (a concurrent install) wins and is kept.
Status commit_staged(const std::filesystem::path& stage, const std::filesystem::path& dest,
                     const std::function<bool(const std::filesystem::path&)>& dest_is_valid);

// ---- the installer ----

struct InstallOutcome {
  enum class Kind { installed, already_present, system };
  Kind kind = Kind::installed;
  std::string name;
  std::string version;
  std::filesystem::path path;  // the binary
  std::string note;            // e.g. "the registry could not be reached; kept 1.3.4"
};

struct InstallerOptions {
  std::filesystem::path store;                       // <store>/<name>/<version>/
  std::filesystem::path system_bin = "/usr/bin";     // where system runtimes are looked for
  std::function<void(const std::string&)> progress;  // one line per step; may be empty
  std::optional<bool> avx2;                          // unset: read /proc/cpuinfo
};

class Installer {
 public:
  explicit Installer(InstallerOptions options) : opt_(std::move(options)) {}

  // Installs the newest version of `d` matching `prefix` unless it is already in the store.
  // Fails naming the step (no such version, download, build, verification) and why.
  Result<InstallOutcome> install(const Descriptor& d, std::string_view prefix) const;

  // The store half of an npm-binary install, without the network: takes the binary
  // `d.install.file` out of a package tarball, checks that `--version` mentions `version`, and
  // commits it as <store>/<name>/<version>/<store.binary>. Nothing reaches the store on failure.
  Result<InstallOutcome> install_binary_tarball(const Descriptor& d, const std::filesystem::path& tgz,
                                                const std::string& version) const;

 private:
  Result<InstallOutcome> install_npm_binary(const Descriptor& d, std::string_view prefix) const;
  Result<InstallOutcome> install_npm_source(const Descriptor& d, std::string_view prefix) const;
  Result<InstallOutcome> check_system(const Descriptor& d, std::string_view prefix) const;
  void say(const std::string& line) const;

  InstallerOptions opt_;
};

// The QuickJS bootstrap (runtimes/quickjs/bootstrap.mjs, embedded at build time).
std::string_view quickjs_bootstrap();

}  // namespace ignite::runtime
