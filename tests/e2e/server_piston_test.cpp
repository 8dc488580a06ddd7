// Piston compatibility: the unmodified npm `piston-client` runs Python and JavaScript against
// /api/v2, and the raw routes have Piston's shapes.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "server_helpers.hpp"

namespace ignite::testing {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

const fs::path kTools = fs::path(IGNITE_SOURCE_DIR) / "build/npm-tools";

TEST(ServerPiston, runtimes_have_piston_shape) {
  ServerProcess s({{}, {}});
  ASSERT_TRUE(s.started());
  auto r = s.get("/api/v2/runtimes");
  ASSERT_EQ(r.status, 200);
  Json list = r.json();
  ASSERT_TRUE(list.is_array());
  bool python = false;
  for (const auto& rt : list) {
    EXPECT_TRUE(rt["language"].is_string() && rt["version"].is_string() && rt["aliases"].is_array()) << rt;
    python = python || rt["language"] == "python";
  }
  EXPECT_TRUE(python) << r.body;
}

TEST(ServerPiston, execute_has_piston_shape_and_errors) {
  REQUIRE_SANDBOX();
  ServerProcess s({{}, {}});
  ASSERT_TRUE(s.started());
  // No Content-Type, as node-fetch sends it: the body is JSON regardless.
  auto r = s.post("/api/v2/execute",
                  R"J({"language":"py","version":"*","files":[{"content":"import sys\nprint('out')\nprint('err',file=sys.stderr)\nsys.exit(2)"}],"stdin":"","args":[]})J",
                  {{"Content-Type", "text/plain;charset=UTF-8"}});
  ASSERT_EQ(r.status, 200) << r.body;
  Json j = r.json();
  EXPECT_EQ(j["language"], "py");
  EXPECT_EQ(j["run"]["stdout"], "out\n");
  EXPECT_EQ(j["run"]["stderr"], "err\n");
  EXPECT_EQ(j["run"]["code"], 2);
  EXPECT_TRUE(j["run"]["signal"].is_null());
  EXPECT_NE(j["run"]["output"].get<std::string>().find("out\n"), std::string::npos);
  auto unknown = s.post("/api/v2/execute", R"J({"language":"cobol","version":"*","files":[{"content":"x"}]})J");
  EXPECT_EQ(unknown.status, 400);
  EXPECT_TRUE(unknown.json()["message"].is_string()) << unknown.body;
}

TEST(ServerPiston, unmodified_piston_client_runs_python_and_javascript) {
  REQUIRE_SANDBOX();
  if (std::system("command -v node >/dev/null 2>&1") != 0) GTEST_SKIP() << "node is not installed";
  if (!fs::exists(kTools / "node_modules/piston-client/package.json"))
    GTEST_SKIP() << "npm piston-client is not installed in " << kTools << " (scripts/install-deps installs it)";
  ServerProcess s({{}, {}});
  ASSERT_TRUE(s.started());
  const fs::path script = kTools / ("piston-check-" + std::to_string(::getpid()) + ".mjs");
  std::ofstream(script) << R"JS(
import piston from "piston-client";
const client = piston({ server: process.argv[2] });
const py = await client.execute("python", "print(6 * 7)");
const js = await client.execute("javascript", "console.log([1, 2, 3].map(x => x * 2).join(','))");
console.log(JSON.stringify({ py, js }));
)JS";
  int rc = 0;
  const std::string out =
      run_command("node " + script.string() + " http://127.0.0.1:" + std::to_string(s.port()) + " 2>&1", rc);
  fs::remove(script);
  ASSERT_EQ(rc, 0) << out;
  Json j = Json::parse(out.substr(out.find('{')));
  EXPECT_EQ(j["py"]["run"]["stdout"], "42\n") << out;
  EXPECT_EQ(j["py"]["run"]["code"], 0) << out;
  EXPECT_EQ(j["js"]["run"]["stdout"], "2,4,6\n") << out;
  EXPECT_EQ(j["js"]["language"], "javascript");
}

}  // namespace
}  // namespace ignite::testing
