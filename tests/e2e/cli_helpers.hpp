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

// The backend the suite runs its sandboxes on: $IGNITE_E2E_ISOLATION (the ctest entry
// e2e_suite_microvm sets it), or "" for each command's default.
std::string suite_isolation();
// How many runs a test makes: `native` on the native suite, `emulated` on microvm, whose runs
// take ~1 s each under emulation; the races and failovers such a test provokes need far fewer.
inline int suite_volume(int native, int emulated) {
  return suite_isolation() == "microvm" ? emulated : native;
}
// The backend a result document names for the suite's runs: suite_isolation() or "native".
inline std::string suite_backend() {
  const auto b = suite_isolation();
  return b.empty() ? "native" : b;
}
// `args` (a subcommand and its arguments) with `--isolation <suite_isolation()>` after the
// subcommand when it is one that runs sandboxes and names no backend itself (on microvm, with
// its --pool turned to none: a microVM's warm slot is a whole VM, too dear under emulation for
// every server of the suite; microVM pools have their own tests).
std::vector<std::string> with_suite_isolation(std::vector<std::string> args);

// run_program with the built `ignite` binary as argv[0] (and the suite's backend).
CliResult run_cli(const std::vector<std::string>& args, const std::vector<std::string>& env = {});

}  // namespace ignite::testing
