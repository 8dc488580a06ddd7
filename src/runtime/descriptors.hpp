// Runtime descriptors: per language, where its binary lives and how it runs inside the sandbox.
#pragma once
#include <string>
#include <vector>

namespace ignite::runtime {

struct Descriptor {
  std::string name;
  std::string binary_in_store;  // relative to <store>/<name>/<version>/, "" if never in the store
  std::string system_binary;    // under CatalogRoots::system_bin, "" if never from the system
  std::string sandbox_home;     // where a store install is mounted in the sandbox (system
                                // binaries appear as /usr/bin/<system_binary>)
  std::vector<std::string> args;          // between the binary and the entry file
  std::vector<std::string> env;           // runtime-specific environment
  std::vector<std::string> extra_mounts;  // host paths bound at the same place (stdlib dirs)
  double baseline_mb = 30;                // memory a trivial program needs
};

const std::vector<Descriptor>& descriptors();
const Descriptor* find_descriptor(const std::string& name);  // nullptr when unknown

}  // namespace ignite::runtime
