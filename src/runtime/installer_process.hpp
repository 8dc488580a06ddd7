// Runs the installer's helper programs (npm, tar, make, a freshly installed runtime) from argv
// vectors, never through a shell, with their output captured and a time limit.
#pragma once
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "core/result.hpp"

namespace ignite::runtime {

struct Command {
  std::vector<std::string> argv;        // argv[0] is looked up in PATH when it has no '/'
  std::filesystem::path cwd;            // empty: our own working directory
  std::vector<std::string> extra_env;   // "K=V", added to (and overriding) our environment
  std::chrono::seconds timeout{300};   // 0 (as from `{}` in a braced list): the default, 300s
};

struct CommandOutput {
  int exit_code = -1;  // -1 when a signal ended it
  int signal = 0;
  std::string out;     // stdout, at most kMaxCapture bytes (the rest is dropped)
  std::string err;     // stderr, likewise
  bool ok() const { return exit_code == 0; }
};

inline constexpr std::size_t kMaxCapture = 8u << 20;

// Runs the command to completion. Fails when it cannot be started or overruns its timeout (its
// whole process group is then killed); a non-zero exit is a CommandOutput, not an error.
Result<CommandOutput> run_command(const Command& cmd);

// "`npm view` exited with 1:\n<lines of stderr>": one message for a failed step, with its
// first lines (npm says why up front) or its last ones (make ends with the error).
enum class Excerpt { head, tail };
std::string describe_failure(const Command& cmd, const CommandOutput& out,
                             Excerpt excerpt = Excerpt::tail);

}  // namespace ignite::runtime
