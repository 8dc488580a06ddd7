// Runtime descriptors: per language, where its binary lives, how it runs inside the sandbox and
// how it is installed. The data lives in runtimes/*.json; descriptors_gen turns it into C++ at
// build time (descriptor_json.hpp reads the format).
#pragma once
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace ignite::runtime {

struct InstallRecipe {
  std::string kind;              // "npm-binary" | "npm-source" | "system"
  std::string package;           // npm package
  std::string baseline_package;  // npm package for CPUs without AVX2 (bun)
  std::string file;              // path of the binary inside the package tarball
  std::string source_glob;       // npm-source: source dir inside the tarball
  std::string make_target;       // npm-source: `make <target>` builds the binary
  std::string hint;              // system: how to install it
  bool operator==(const InstallRecipe&) const = default;
};

// A named set of extras a run may ask for (python's "datascience": Debian's numpy, pandas and
// matplotlib): more read-only host paths, more environment, a larger memory baseline.
struct ProfileDescriptor {
  std::string description;
  std::vector<std::string> requires_paths;  // all must exist on the host for the profile to be usable
  std::vector<std::string> extra_mounts;    // bound read-only at the same place when they exist
  std::vector<std::string> env;
  double baseline_mb = 0;  // on top of the runtime's
  std::string hint;        // how to install what `requires_paths` names
  bool operator==(const ProfileDescriptor&) const = default;
};

struct Descriptor {
  std::string name;
  std::string description;
  std::vector<std::string> extensions;  // ".ts", ".py"
  std::string default_entry;
  std::string store_binary;    // relative to <store>/<name>/<version>/, "" if never in the store
  std::string store_mount;     // where a store install is mounted in the sandbox
  std::string system_binary;   // under CatalogRoots::system_bin, "" if never from the system
  bool system_goroot = false;  // mount the toolchain root (GOROOT) rather than the binary
  std::vector<std::string> args;          // between the binary and the entry file
  std::vector<std::string> env;           // runtime-specific environment
  std::vector<std::string> extra_mounts;  // host paths bound at the same place; last part may end in *
  // Host path globs (fnmatch, a match covers what lies beneath) left out of the runtime's
  // docker image: files no program loads at run time (Python's config-*/: a static libpython).
  std::vector<std::string> image_exclude;
  double baseline_mb = 30;                // memory a trivial program needs
  bool compiled = false;                  // built to a binary first (go)
  InstallRecipe install;
  std::map<std::string, ProfileDescriptor> profiles;  // by name
  bool operator==(const Descriptor&) const = default;
};

// runtimes/*.json, in file-name order. Built from code descriptors_gen wrote: parsing the JSON
// here cost every CLI start that resolves a runtime ~0.25 ms (the parser's first use: its code
// faulted in, thousands of small allocations).
const std::vector<Descriptor>& descriptors();
const Descriptor* find_descriptor(std::string_view name);  // nullptr when unknown

}  // namespace ignite::runtime
