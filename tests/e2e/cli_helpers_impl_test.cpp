// (helpers live in a *_test.cpp so the glob picks them up; no tests in this file)
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "cli_helpers.hpp"

extern char** environ;

namespace ignite::testing {

std::string suite_isolation() {
  const char* v = std::getenv("IGNITE_E2E_ISOLATION");
  return v ? v : "";
}

std::vector<std::string> with_suite_isolation(std::vector<std::string> args) {
  static const std::vector<std::string> sandboxing{"run", "exec", "serve", "worker", "mcp"};
  const std::string backend = suite_isolation();
  if (backend.empty() || args.empty()) return args;
  if (std::find(sandboxing.begin(), sandboxing.end(), args[0]) == sandboxing.end()) return args;
  if (std::find(args.begin(), args.end(), "--isolation") != args.end()) return args;
  // A microVM's warm slot is a whole VM: the suite's commands run without pools there.
  if (backend == "microvm") {
    for (std::size_t i = 1; i + 1 < args.size(); ++i)
      if (args[i] == "--pool") args[i + 1] = "none";
  }
  args.insert(args.begin() + 1, {"--isolation", backend});
  return args;
}

CliResult run_cli(const std::vector<std::string>& args, const std::vector<std::string>& env) {
  std::vector<std::string> argv{IGNITE_BIN};
  const auto sub = with_suite_isolation(args);
  argv.insert(argv.end(), sub.begin(), sub.end());
  return run_program(std::move(argv), env);
}

CliResult run_program(std::vector<std::string> argv_s, const std::vector<std::string>& env) {
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  // An extra "K=V" replaces our K (getenv finds the first one; a duplicate would not count).
  std::vector<std::string> env_s;
  for (char** e = environ; *e; ++e) {
    const std::string_view entry(*e);
    const std::string_view key = entry.substr(0, entry.find('=') + 1);
    const bool replaced = std::any_of(env.begin(), env.end(), [key](const std::string& x) { return x.rfind(key, 0) == 0; });
    if (!replaced) env_s.emplace_back(entry);
  }
  env_s.insert(env_s.end(), env.begin(), env.end());
  std::vector<char*> envp;
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);

  int out[2], err[2];
  if (::pipe2(out, O_CLOEXEC) != 0 || ::pipe2(err, O_CLOEXEC) != 0) return {};
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err[1], 2);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  ::close(out[1]);
  ::close(err[1]);
  CliResult r;
  if (rc != 0) return r;
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  std::string* sinks[2] = {&r.out, &r.err};
  int open_fds = 2;
  while (open_fds > 0) {
    if (::poll(fds, 2, -1) < 0) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP))) continue;
      char buf[65536];
      ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      } else {
        sinks[i]->append(buf, static_cast<std::size_t>(n));
      }
    }
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

}  // namespace ignite::testing
