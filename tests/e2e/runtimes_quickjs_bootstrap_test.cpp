// The QuickJS bootstrap (runtimes/quickjs/bootstrap.mjs) under the real qjs from the store: the
// same service code prints the same thing as on Node, and failures look like Node's.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "cli_helpers.hpp"

namespace ignite::testing {
namespace {

namespace fs = std::filesystem;
const std::string kBootstrap = std::string(IGNITE_SOURCE_DIR) + "/runtimes/quickjs/bootstrap.mjs";

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
