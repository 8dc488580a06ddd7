// MCP: the official MCP TypeScript SDK (npm @modelcontextprotocol/sdk, unmodified; installed by
// scripts/install-deps into tests/mcp_client) drives `ignite mcp` over stdio and POST /mcp of
// `ignite serve` (Streamable HTTP) as an agent host would: initialize, list tools, call them,
// cancel one. The raw HTTP rules of /mcp (auth, Origin, methods, versions) are checked here too.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "server_helpers.hpp"

namespace ignite::testing {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

const fs::path kClient = fs::path(IGNITE_SOURCE_DIR) / "tests/mcp_client";

#define REQUIRE_MCP_SDK()                                                                           \
  REQUIRE_SANDBOX();                                                                               \
  if (std::system("command -v node >/dev/null 2>&1") != 0) GTEST_SKIP() << "node is not installed"; \
  if (!fs::exists(kClient / "node_modules/@modelcontextprotocol/sdk/package.json"))                  \
  GTEST_SKIP() << "@modelcontextprotocol/sdk is not installed in " << kClient                      \
               << "/node_modules (scripts/install-deps installs it)"

// Runs tests/mcp_client/drive.mjs and returns the JSON line it printed.
Json drive(const std::string& args) {
  int rc = 0;
  const std::string out = run_command("node " + (kClient / "drive.mjs").string() + " " + args + " 2>&1", rc);
  EXPECT_EQ(rc, 0) << out;
  const auto brace = out.rfind("\n{");
  const std::string line = out.substr(brace == std::string::npos ? 0 : brace + 1);
  Json j = Json::parse(line, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << out;
  return j;
}

// What both transports must answer alike.
void expect_common(const Json& j) {
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j["server"]["name"], "ignite");
  EXPECT_EQ(j["tools"], Json({"list_runtimes", "list_services", "run_code", "run_service"}));
  // The result document as structured content, and the same as readable text.
  const Json& py = j["py"];
  EXPECT_FALSE(py["isError"].get<bool>());
  EXPECT_EQ(py["structured"]["status"], "ok");
  EXPECT_EQ(py["structured"]["stdout"], "42\n5\n");  // 5 came from `input` through IGNITE_INPUT
  EXPECT_EQ(py["structured"]["stderr"], "to stderr\n");
  EXPECT_EQ(py["structured"]["exitCode"], 0);
  EXPECT_GT(py["structured"]["metrics"]["memoryPeakBytes"].get<double>(), 0);
  const std::string text = py["text"];
  EXPECT_NE(text.find("status: ok (exit 0)"), std::string::npos) << text;
  EXPECT_NE(text.find("--- stdout ---\n42\n5\n"), std::string::npos) << text;
  EXPECT_NE(text.find("peak memory"), std::string::npos) << text;
  // Files left in /out: in the document, named in the text, and a PNG as image content.
  const Json& png = j["png"];
  ASSERT_EQ(png["images"].size(), 1u) << png;
  EXPECT_EQ(png["images"][0]["mimeType"], "image/png");
  EXPECT_EQ(png["images"][0]["width"], 7);
  EXPECT_EQ(png["images"][0]["height"], 5);
  EXPECT_EQ(png["files"], Json::parse(R"([{"path":"note.txt","mimeType":"text/plain","encoding":"utf8"},
                                          {"path":"red.png","mimeType":"image/png","encoding":"base64"}])"));
  EXPECT_NE(png["text"].get<std::string>().find("red.png (image/png"), std::string::npos) << png["text"];
  // A request Ignite refuses is a tool error the model can read, not a transport failure.
  EXPECT_TRUE(j["bad"]["isError"].get<bool>());
  EXPECT_NE(j["bad"]["text"].get<std::string>().find("unknown runtime 'cobol'"), std::string::npos);
  // Limits hold as for every other transport.
  EXPECT_EQ(j["bomb"], "memory_limit");
  const Json runtimes = j["runtimes"];
  EXPECT_NE(std::find(runtimes.begin(), runtimes.end(), "python"), runtimes.end()) << runtimes;
  EXPECT_EQ(j["service"]["status"], "ok");
  EXPECT_NE(j["service"]["stdout"].get<std::string>().find("\"result\":15"), std::string::npos);
  EXPECT_TRUE(j["missingService"]["isError"].get<bool>());
  EXPECT_NE(j["missingService"]["text"].get<std::string>().find("not_found"), std::string::npos);
  EXPECT_EQ(j["unknownTool"], -32602);  // a protocol error (invalid params), as the spec says
  EXPECT_TRUE(j["ping"].get<bool>());
}

TEST(McpSdk, the_official_sdk_drives_ignite_mcp_over_stdio) {
  REQUIRE_MCP_SDK();
  const Json j = drive("stdio " + std::string(IGNITE_BIN) + " " + examples_dir());
  expect_common(j);
  // The client gave up on a 30 s sleep after 1.5 s; with one sandbox at a time, the next run
  // ending soon after shows the sleep was stopped, not left to run.
  EXPECT_EQ(j["cancel"], "aborted");
  EXPECT_EQ(j["afterCancel"]["stdout"], "after\n");
  EXPECT_LT(j["afterCancel"]["ms"].get<double>(), 15000) << j["afterCancel"];
}

TEST(McpSdk, the_official_sdk_drives_post_mcp_behind_an_api_key) {
  REQUIRE_MCP_SDK();
  ServerProcess s({{"--pool", "none", "--services", examples_dir(), "--api-key", "mcp-test-key-1"}, {}});
  ASSERT_TRUE(s.started()) << s.stderr_text();
  const Json j = drive("http http://127.0.0.1:" + std::to_string(s.port()) + "/mcp mcp-test-key-1");
  expect_common(j);
}

// What an agent asks most: pandas reads data, matplotlib draws it, the PNG comes back as an
// image of the size the program asked for (4 x 3 inches at 100 dpi).
TEST(McpSdk, a_pandas_chart_saved_to_out_comes_back_as_png_image_content) {
  REQUIRE_MCP_SDK();
  if (!fs::exists("/usr/lib/python3/dist-packages/pandas") || !fs::exists("/usr/lib/python3/dist-packages/matplotlib"))
    GTEST_SKIP() << "python's datascience profile needs python3-pandas and python3-matplotlib (scripts/install-deps)";
  const Json j = drive("chart " + std::string(IGNITE_BIN));
  ASSERT_EQ(j["status"], "ok") << j;
  EXPECT_EQ(j["stdout"], "36\n");
  ASSERT_EQ(j["images"].size(), 1u) << j;
  EXPECT_EQ(j["images"][0]["mimeType"], "image/png");
  EXPECT_EQ(j["images"][0]["width"], 400);
  EXPECT_EQ(j["images"][0]["height"], 300);
  EXPECT_GT(j["images"][0]["bytes"].get<int>(), 1000);
  EXPECT_EQ(j["files"][0]["path"], "chart.png");
}

TEST(McpHttp, post_mcp_keeps_the_api_rules) {
  ServerProcess s({{"--pool", "none", "--api-key", "mcp-test-key-2"}, {}});
  ASSERT_TRUE(s.started()) << s.stderr_text();
  const Headers key = {{"Authorization", "Bearer mcp-test-key-2"}};
  const std::string ping = R"({"jsonrpc":"2.0","id":7,"method":"ping"})";
  // Same auth as every route.
  EXPECT_EQ(s.post("/mcp", ping).status, 401);
  auto ok = s.post("/mcp", ping, key);
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.json()["id"], 7);
  EXPECT_TRUE(ok.json()["result"].is_object());
  // A notification is accepted with nothing to say.
  auto note = s.post("/mcp", R"({"jsonrpc":"2.0","method":"notifications/initialized"})", key);
  EXPECT_EQ(note.status, 202);
  EXPECT_TRUE(note.body.empty()) << note.body;
  // A web page elsewhere may not drive it (DNS rebinding); loopback origins may.
  Headers evil = key;
  evil.emplace_back("Origin", "http://evil.example");
  EXPECT_EQ(s.post("/mcp", ping, evil).status, 403);
  Headers local = key;
  local.emplace_back("Origin", "http://localhost:3000");
  EXPECT_EQ(s.post("/mcp", ping, local).status, 200);
  // No server-to-client stream: GET says which method works.
  auto get = s.get("/mcp", key);
  EXPECT_EQ(get.status, 405);
  // An unknown protocol revision in the header, and a body that is not JSON.
  Headers old = key;
  old.emplace_back("MCP-Protocol-Version", "1999-01-01");
  auto bad_version = s.post("/mcp", ping, old);
  EXPECT_EQ(bad_version.status, 400);
  EXPECT_EQ(bad_version.json()["error"]["code"], -32600);
  auto garbage = s.post("/mcp", "{not json", key);
  EXPECT_EQ(garbage.status, 400);
  EXPECT_EQ(garbage.json()["error"]["code"], -32700);
  // A hostile nesting depth is refused before it is built.
  auto deep = s.post("/mcp", std::string(100000, '[') + std::string(100000, ']'), key);
  EXPECT_EQ(deep.status, 400);
  EXPECT_EQ(s.get("/health").status, 200);  // and the server is fine
}

}  // namespace
}  // namespace ignite::testing
