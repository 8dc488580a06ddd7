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

// Runs argv (no shell, argv[0] a path) with extra "K=V" entries added to our environment;
// stdin is /dev/null; collects stdout and stderr.
CliResult run_program(std::vector<std::string> argv, const std::vector<std::string>& env = {});

// run_program with the built `ignite` binary as argv[0].
CliResult run_cli(const std::vector<std::string>& args, const std::vector<std::string>& env = {});

}  // namespace ignite::testing
