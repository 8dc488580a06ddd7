// `ignite init`'s pieces, exposed for unit tests: the files a new service gets, and the command.
#pragma once
#include <string>
#include <vector>

#include "config/service_config.hpp"

namespace ignite::cli {

struct InitOptions {
  std::string name;
  std::string path;  // "" = ./<name>
  std::string runtime = "bun";
};

struct ScaffoldFile {
  std::string name;
  std::string content;
};

// Every file `ignite init` writes for this runtime, in creation order.
std::vector<ScaffoldFile> scaffold(const std::string& name, const config::RuntimeRef& runtime);

// Validates, refuses to overwrite anything, writes the files. Returns the process exit code.
int run_init(const InitOptions& opt);

}  // namespace ignite::cli
