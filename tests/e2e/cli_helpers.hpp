// Runs the built `ignite` binary like a user would and captures what it prints.
#pragma once
#include <string>
#include <vector>

namespace ignite::testing {

struct CliResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs IGNITE_BIN with args (no shell), optional extra environment "K=V" entries.
CliResult run_cli(const std::vector<std::string>& args, const std::vector<std::string>& env = {});

}  // namespace ignite::testing
