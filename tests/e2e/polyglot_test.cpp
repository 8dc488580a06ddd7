// Every runtime end to end: the same echo service on all six, ad-hoc `ignite exec`, TypeScript
// everywhere, dependencies (installed once, sandboxed) and Go builds (cached).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "../common/loopback_listener.hpp"
#include "cli_helpers.hpp"

namespace ignite::testing {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
const fs::path kExamples = fs::path(IGNITE_SOURCE_DIR) / "examples";

// Runtimes `ignite env --runtimes` reports as installed.
bool installed(const std::string& name) {
  static const std::string listing = run_cli({"env", "--runtimes"}).out;
  return listing.find("\n  " + name + " ") != std::string::npos;
}

#define REQUIRE_RUNTIME(name)                                                            \
  if (::geteuid() != 0) GTEST_SKIP() << "needs root for the native sandbox";             \
  if (!installed((name)))                                                                \
  GTEST_SKIP() << "runtime " << (name) << " is not installed here (scripts/install-deps installs it)"

// A scratch directory with given files, removed afterwards.
class Scratch {
 public:
  explicit Scratch(const std::vector<std::pair<std::string, std::string>>& files) {
    dir_ = fs::temp_directory_path() / ("ignite-poly-" + std::to_string(::getpid()) + "-" +
                                        std::to_string(counter_++));
    fs::create_directories(dir_);
    for (const auto& [name, text] : files) std::ofstream(dir_ / name) << text;
  }
  ~Scratch() { fs::remove_all(dir_); }
  fs::path path() const { return dir_; }

 private:
  static inline int counter_ = 0;
  fs::path dir_;
};

class EchoOnEveryRuntime : public ::testing::TestWithParam<std::string> {};

TEST_P(EchoOnEveryRuntime, gives_identical_output) {
  const std::string rt = GetParam();
  REQUIRE_RUNTIME(rt == "node-ts" ? "node" : rt);
  auto r = run_cli({"run", (kExamples / ("echo-" + rt)).string(), "--input",
                    R"({"a":[1,2.5,"x"],"b":{"c":null,"d":true},"u":"héllo"})", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  Json doc = Json::parse(r.out);
  EXPECT_EQ(doc["output"], "{\"echo\":{\"a\":[1,2.5,\"x\"],\"b\":{\"c\":null,\"d\":true},\"u\":\"héllo\"},"
                           "\"hello\":\"world\"}\n")
      << doc.dump();
  EXPECT_EQ(doc["runtime"].get<std::string>().rfind(rt == "node-ts" ? "node@" : rt + "@", 0), 0u);
}

INSTANTIATE_TEST_SUITE_P(Runtimes, EchoOnEveryRuntime,
                         ::testing::Values("bun", "node", "node-ts", "deno", "quickjs", "python", "go"),
                         [](const auto& param_info) {
                           std::string n = param_info.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

struct ExecCase {
  std::string name;
  std::string runtime;
  std::string code;
  std::string output;
};

class ExecOnEveryLanguage : public ::testing::TestWithParam<ExecCase> {};

TEST_P(ExecOnEveryLanguage, prints_45) {
  const auto& c = GetParam();
  const std::string base = c.runtime.substr(0, c.runtime.find('@'));
  REQUIRE_RUNTIME(base == "typescript" || base == "javascript" ? "bun" : base);
  auto r = run_cli({"exec", "--runtime", c.runtime, "--code", c.code, "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  EXPECT_EQ(Json::parse(r.out)["output"], c.output) << r.out;
}

INSTANTIATE_TEST_SUITE_P(
    Languages, ExecOnEveryLanguage,
    ::testing::Values(
        ExecCase{"python", "python", "print(sum(range(10)))", "45\n"},
        ExecCase{"go", "go", "package main\nimport \"fmt\"\nfunc main() { fmt.Println(45) }\n", "45\n"},
        ExecCase{"typescript", "typescript", "const n: number = [...Array(10).keys()].reduce((a, b) => a + b, 0);\nconsole.log(n);", "45\n"},
        ExecCase{"javascript", "javascript", "console.log([...Array(10).keys()].reduce((a, b) => a + b, 0))", "45\n"},
        ExecCase{"quickjs", "quickjs", "console.log([...Array(10).keys()].reduce((a, b) => a + b, 0))", "45\n"},
        ExecCase{"node", "node", "console.log([...Array(10).keys()].reduce((a, b) => a + b, 0))", "45\n"},
        ExecCase{"deno", "deno", "console.log([...Array(10).keys()].reduce((a: number, b: number) => a + b, 0))", "45\n"}),
    [](const auto& param_info) { return param_info.param.name; });

TEST(Exec, stdin_args_and_input_reach_the_program) {
  REQUIRE_RUNTIME("python");
  auto r = run_cli({"exec", "--runtime", "python", "--code",
                    "import sys, os\nprint(sys.stdin.read().upper(), sys.argv[1:], os.environ['IGNITE_INPUT'])",
                    "--stdin", "abc", "--arg", "x", "--arg", "y", "--input", "[1]"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "ABC ['x', 'y'] [1]\n");
}

TEST(Exec, node_runs_commonjs_and_esm) {
  REQUIRE_RUNTIME("node");
  auto cjs = run_cli({"exec", "--runtime", "node", "--code",
                      "const path = require('path'); console.log(path.join('a', 'b'))"});
  ASSERT_EQ(cjs.exit_code, 0) << cjs.err;
  EXPECT_EQ(cjs.out, "a/b\n");
  Scratch dir({{"main.mjs", "import path from 'node:path';\nconsole.log(path.join('c', 'd'));\n"}, {"README", ""}});
  auto esm = run_cli({"exec", "--runtime", "node", (dir.path() / "main.mjs").string()});
  ASSERT_EQ(esm.exit_code, 0) << esm.err;
  EXPECT_EQ(esm.out, "c/d\n");
}

TEST(Exec, typescript_runs_on_quickjs_through_the_transpile_step) {
  REQUIRE_RUNTIME("quickjs");
  Scratch dir({{"main.ts", "const x: number = 41;\nconsole.log(x + 1, process.env.IGNITE_INPUT);\n"}, {"README", ""}});
  auto r = run_cli({"exec", "--runtime", "quickjs", (dir.path() / "main.ts").string(), "--input",
                    "{\"z\":1}", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json doc = Json::parse(r.out);
  EXPECT_EQ(doc["output"], "42 {\"z\":1}\n");
  EXPECT_TRUE(doc.contains("compile"));  // the bun transpile step (or its cached artifact)
}

TEST(Exec, unknown_language_is_125) {
  auto r = run_cli({"exec", "--runtime", "cobol", "--code", "x"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_NE(r.err.find("cobol"), std::string::npos) << r.err;
}

TEST(Go, compile_error_is_a_result_and_unchanged_code_is_not_rebuilt) {
  REQUIRE_RUNTIME("go");
  // A unique program per test run, so the first build is really a build.
  const std::string marker = std::to_string(::getpid()) + std::to_string(::time(nullptr));
  auto bad = run_cli({"exec", "--runtime", "go", "--json", "--code",
                      "package main\nfunc main() { undefined_" + marker + "() }\n"});
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.exit_code, 125) << bad.err;
  Json doc = Json::parse(bad.out);
  EXPECT_EQ(doc["status"], "runtime_error");
  EXPECT_NE(doc["stderr"].get<std::string>().find("undefined: undefined_" + marker), std::string::npos)
      << doc.dump();
  EXPECT_EQ(doc["compile"]["status"], "runtime_error");
  EXPECT_GT(doc["compile"]["metrics"]["executionTimeMs"].get<double>(), 0);

  const std::string good = "package main\nimport \"fmt\"\nfunc main() { fmt.Println(\"" + marker + "\") }\n";
  auto first = run_cli({"exec", "--runtime", "go", "--json", "--code", good});
  ASSERT_EQ(first.exit_code, 0) << first.err;
  Json d1 = Json::parse(first.out);
  EXPECT_EQ(d1["compile"]["cached"], false);
  EXPECT_EQ(d1["compile"]["status"], "ok");
  auto second = run_cli({"exec", "--runtime", "go", "--json", "--code", good});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  Json d2 = Json::parse(second.out);
  EXPECT_EQ(d2["compile"]["cached"], true);
  EXPECT_FALSE(d2["compile"].contains("status"));
  EXPECT_EQ(d2["output"], marker + "\n");
}

TEST(Go, program_cannot_reach_the_network) {
  REQUIRE_RUNTIME("go");
  LoopbackListener listener;
  ASSERT_TRUE(listener.ok());
  const std::string port = listener.port();
  auto r = run_cli({"exec", "--runtime", "go", "--code",
                    "package main\nimport (\"fmt\"; \"net\")\nfunc main() {\n"
                    "  _, err := net.Dial(\"tcp\", \"127.0.0.1:" + port + "\")\n"
                    "  fmt.Println(err != nil)\n}\n"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "true\n");
}

TEST(Dependencies, lodash_installs_once_and_runs_without_network) {
  REQUIRE_RUNTIME("bun");
  // A copy with a unique version pin string, so the first run really installs.
  Scratch svc({{"service.yaml", "service:\n  name: lodash-e2e\n  runtime: bun\n  entry: index.ts\n"},
               {"index.ts", "import _ from 'lodash';\nconsole.log(_.sum([1, 2, 3]));\n"},
               {"package.json", "{\"name\":\"lodash-e2e-" + std::to_string(::getpid()) +
                                    "\",\"dependencies\":{\"lodash\":\"4.17.21\"}}"}});
  auto first = run_cli({"run", svc.path().string(), "--json"});
  ASSERT_EQ(first.exit_code, 0) << first.err << first.out;
  Json d1 = Json::parse(first.out);
  EXPECT_EQ(d1["output"], "6\n");
  EXPECT_EQ(d1["limits"]["network"], false);
  EXPECT_EQ(d1["install"]["cached"], false);
  EXPECT_EQ(d1["install"]["status"], "ok");
  auto second = run_cli({"run", svc.path().string(), "--json"});
  ASSERT_EQ(second.exit_code, 0) << second.err;
  Json d2 = Json::parse(second.out);
  EXPECT_EQ(d2["output"], "6\n");
  EXPECT_EQ(d2["install"]["cached"], true);
  EXPECT_FALSE(d2["install"].contains("status"));  // no install step ran
}

TEST(Dependencies, the_seed_lodash_example_works) {
  REQUIRE_RUNTIME("bun");
  auto r = run_cli({"run", (kExamples / "lodash-sum").string(), "--input", R"({"data":[1,2,3,4,5]})"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "{\"sum\":15,\"chunks\":[[1,2],[3,4],[5]]}\n");
}

// A package.json whose postinstall writes to /etc (read-only) and then fails.
Scratch evil_install(const fs::path& planted, bool opt_in) {
  return Scratch({{"service.yaml", "service:\n  name: evil-install\n  runtime: node\n  entry: index.js\n" +
                                       std::string(opt_in ? "  installScripts: true\n" : "")},
                  {"index.js", "console.log('ran')\n"},
                  {"package.json", "{\"name\":\"evil-" + std::to_string(::getpid()) +
                                       "\",\"dependencies\":{\"lodash\":\"4.17.21\"},"
                                       "\"scripts\":{\"postinstall\":\"echo owned > " + planted.string() +
                                       " || exit 3\"}}"}});
}

TEST(Dependencies, install_scripts_do_not_run_unless_the_service_opts_in) {
  REQUIRE_RUNTIME("node");
  const fs::path planted = "/etc/ignite-postinstall-" + std::to_string(::getpid());
  Scratch svc = evil_install(planted, false);
  auto r = run_cli({"run", svc.path().string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;  // the failing script never ran
  EXPECT_EQ(r.out, "ran\n");
  EXPECT_FALSE(fs::exists(planted));
}

TEST(Dependencies, install_scripts_that_opted_in_are_sandboxed) {
  REQUIRE_RUNTIME("node");
  const fs::path planted = "/etc/ignite-postinstall-" + std::to_string(::getpid());
  Scratch svc = evil_install(planted, true);
  auto r = run_cli({"run", svc.path().string()});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_NE(r.err.find("dependency install failed"), std::string::npos) << r.err;
  // It failed because the script could not write there, not for some other reason.
  EXPECT_NE(r.err.find("Read-only file system"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(planted));
  EXPECT_FALSE(fs::exists(svc.path() / "node_modules"));
}

}  // namespace
}  // namespace ignite::testing
