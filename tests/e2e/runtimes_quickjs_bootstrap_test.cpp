// The QuickJS bootstrap (runtimes/quickjs/bootstrap.mjs) under the real qjs from the store: the
// same service code prints the same thing as on Node, and failures look like Node's.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "cli_helpers.hpp"

extern char** environ;

namespace ignite::testing {
namespace {

namespace fs = std::filesystem;
const std::string kBootstrap = std::string(IGNITE_SOURCE_DIR) + "/runtimes/quickjs/bootstrap.mjs";

// Runs argv (no shell) with `env` added to ours; collects stdout and stderr.
CliResult run_program(std::vector<std::string> argv_s, const std::vector<std::string>& env) {
  std::vector<std::string> env_s;
  for (char** e = environ; *e != nullptr; ++e) env_s.emplace_back(*e);
  env_s.insert(env_s.end(), env.begin(), env.end());
  std::vector<char*> argv, envp;
  for (auto& a : argv_s) argv.push_back(a.data());
  for (auto& e : env_s) envp.push_back(e.data());
  argv.push_back(nullptr);
  envp.push_back(nullptr);
  int out[2], err[2];
  CliResult r;
  if (::pipe2(out, O_CLOEXEC) != 0) return r;
  if (::pipe2(err, O_CLOEXEC) != 0) return r;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_adddup2(&fa, err[1], 2);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  ::close(out[1]);
  ::close(err[1]);
  pollfd fds[2] = {{out[0], POLLIN, 0}, {err[0], POLLIN, 0}};
  std::string* sinks[2] = {&r.out, &r.err};
  for (int open_fds = 2; rc == 0 && open_fds > 0;) {
    if (::poll(fds, 2, -1) < 0) break;
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || (fds[i].revents & (POLLIN | POLLHUP)) == 0) continue;
      char buf[65536];
      const ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<std::size_t>(n));
        continue;
      }
      ::close(fds[i].fd);
      fds[i].fd = -1;
      --open_fds;
    }
  }
  if (rc != 0) {
    ::close(out[0]);
    ::close(err[0]);
    return r;
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

// The store's qjs, as `ignite runtimes list` reports it; "" when QuickJS is not installed.
std::string installed(const std::string& name) {
  const CliResult r = run_cli({"runtimes", "list", "--json"});
  if (r.exit_code != 0) return "";
  const nlohmann::json doc = nlohmann::json::parse(r.out);  // outlives the loop
  for (const auto& rt : doc.at("runtimes")) {
    if (rt.at("name") == name) return rt.at("path").get<std::string>();
  }
  return "";
}

class QuickjsBootstrap : public ::testing::Test {
 protected:
  void SetUp() override {
    qjs_ = installed("quickjs");
    if (qjs_.empty()) GTEST_SKIP() << "QuickJS is not installed; run scripts/install-deps";
    dir_ = fs::temp_directory_path() / ("ignite-qjs-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  CliResult run(const std::string& file, const std::string& code, const std::vector<std::string>& args = {},
                const std::vector<std::string>& env = {}) {
    std::ofstream(dir_ / file) << code;
    std::vector<std::string> argv{qjs_, "--std", "-m", kBootstrap, (dir_ / file).string()};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_program(argv, env);
  }
  std::string qjs_;
  fs::path dir_;
};

const char* kEcho = R"(const input = JSON.parse(process.env.IGNITE_INPUT ?? '{}');
console.log(JSON.stringify({ echo: input, argv: process.argv.slice(2) }));
console.log({ a: 1, b: 'x', c: [1, 2, { d: null }], e: undefined }, 'str', 42);
console.log('%s is %d years', 'Bob', 42, 'extra');
console.log(new Map([['k', 1]]), new Set([1, 2]), [], {});
console.error('to stderr', { err: true });
process.stdout.write('no newline');
process.stdout.write('\n');
setTimeout(() => console.log('timer fired'), 10);
)";

const char* kEchoOut = R"({"echo":{"x":[1,2]},"argv":["a1","a2"]}
{ a: 1, b: 'x', c: [ 1, 2, { d: null } ], e: undefined } str 42
Bob is 42 years extra
Map(1) { 'k' => 1 } Set(2) { 1, 2 } [] {}
no newline
timer fired
)";

TEST_F(QuickjsBootstrap, env_argv_console_and_timers_behave_like_node) {
  const CliResult r = run("echo.js", kEcho, {"a1", "a2"}, {R"(IGNITE_INPUT={"x":[1,2]})"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, kEchoOut);
  EXPECT_EQ(r.err, "to stderr { err: true }\n");
  // The same file on Node prints the same, byte for byte.
  if (fs::exists("/usr/bin/node")) {
    const CliResult node = run_program({"/usr/bin/node", (dir_ / "echo.js").string(), "a1", "a2"},
                                       {R"(IGNITE_INPUT={"x":[1,2]})"});
    EXPECT_EQ(node.out, r.out);
    EXPECT_EQ(node.err, r.err);
  }
}

TEST_F(QuickjsBootstrap, an_uncaught_error_prints_message_and_stack_and_exits_1) {
  const CliResult r = run("throw.js", "function f() { throw new TypeError('bad thing'); }\nf();\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(r.err.rfind("TypeError: bad thing\n", 0), 0u) << r.err;
  EXPECT_NE(r.err.find("at f ("), std::string::npos) << r.err;
}

TEST_F(QuickjsBootstrap, a_syntax_error_or_a_missing_import_exits_1_with_the_reason) {
  const CliResult syntax = run("syntax.js", "let x = ;\n");
  EXPECT_EQ(syntax.exit_code, 1);
  EXPECT_NE(syntax.err.find("SyntaxError"), std::string::npos) << syntax.err;
  const CliResult missing = run("missing.js", "import x from './nope.js';\n");
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("nope.js"), std::string::npos) << missing.err;
}

TEST_F(QuickjsBootstrap, process_exit_and_exit_code_set_the_status) {
  const CliResult r = run("exit.js", "console.log('a'); process.exit(3); console.log('b');\n");
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.out, "a\n");
  EXPECT_EQ(run("code.js", "process.exitCode = 4;\n").exit_code, 4);
  EXPECT_EQ(run("thrown.js", "throw 42;\n").err, "Uncaught 42\n");
}

}  // namespace
}  // namespace ignite::testing
