// JSON nested 100,000 deep (200 KB) is refused with a clear message on every route that takes a
// body, and by the CLI's --input; before the bound it crashed `ignite serve` (SIGSEGV in a
// recursive dump) and `ignite run` (issue 9, finding 7).
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "cli_helpers.hpp"
#include "server_helpers.hpp"

namespace ignite::testing {
namespace {

const std::string kDeep = std::string(100000, '[') + std::string(100000, ']');
constexpr const char* kMessage = "nested deeper than 128 levels";

TEST(ServerJson, deeply_nested_input_is_rejected_not_a_crash) {
  ServerProcess s({{"--services", examples_dir(), "--body-limit", "1000000"}, {}});
  ASSERT_TRUE(s.started());
  const std::vector<std::pair<std::string, std::string>> routes = {
      {"/services/echo-python/execute", R"J({"input":)J" + kDeep + "}"},
      {"/v1/execute", R"J({"runtime":"python","code":"print(1)","input":)J" + kDeep + "}"},
      {"/v1/jobs", R"J({"runtime":"python","code":"print(1)","input":)J" + kDeep + "}"},
      {"/api/v2/execute",
       R"J({"language":"python","version":"*","files":[{"content":"print(1)"}],"stdin":)J" + kDeep + "}"},
  };
  for (const auto& [route, body] : routes) {
    auto r = s.post(route, body);
    ASSERT_EQ(r.status, 400) << route << ": " << r.body.substr(0, 200);
    const auto doc = r.json();
    const std::string message = route.rfind("/api/v2", 0) == 0 ? doc["message"] : doc["error"]["message"];
    EXPECT_NE(message.find(kMessage), std::string::npos) << route << ": " << message;
    ASSERT_EQ(s.get("/health").status, 200) << "the server died on " << route;
  }
  EXPECT_FALSE(s.wait_exit(std::chrono::milliseconds(1)).has_value()) << "the server exited";
}

TEST(CliInput, deeply_nested_input_is_rejected_not_a_crash) {
  // 200 KB: more than one argument may hold, so through @FILE.
  const std::string file = (std::filesystem::temp_directory_path() /
                            ("ignite-deep-" + std::to_string(::getpid()) + ".json")).string();
  std::ofstream(file) << kDeep;
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"run", examples_dir() + "/echo-python", "--input", "@" + file},
        std::vector<std::string>{"exec", "--runtime", "python", "--code", "print(1)", "--input", "@" + file}}) {
    auto r = run_cli(args);
    EXPECT_EQ(r.exit_code, 125) << args[0] << ": " << r.err;
    EXPECT_NE(r.err.find(kMessage), std::string::npos) << args[0] << ": " << r.err;
  }
  std::filesystem::remove(file);
}

}  // namespace
}  // namespace ignite::testing
