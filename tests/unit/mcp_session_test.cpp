// The MCP session (mcp/session): JSON-RPC 2.0 framing rules, the lifecycle, tools/list and
// tools/call routing, and what a transport learns from classify(). A fake Tools records calls.
#include <gtest/gtest.h>

#include "mcp/ignite_tools.hpp"
#include "mcp/session.hpp"

namespace ignite::mcp {
namespace {

using json = nlohmann::json;

class FakeTools : public Tools {
 public:
  json list() override { return json::array({{{"name", "echo"}}}); }
  std::optional<json> call(const std::string& name, const json& arguments, std::stop_token stop) override {
    if (name != "echo") return std::nullopt;
    last_arguments = arguments;
    saw_stop = stop.stop_possible();
    return json{{"content", json::array()}, {"structuredContent", arguments}};
  }
  json last_arguments;
  bool saw_stop = false;
};

class McpSession : public ::testing::Test {
 protected:
  json request(const std::string& method, json params = json::object(), json id = 1) {
    json m = {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}};
    if (!params.is_null()) m["params"] = std::move(params);
    auto r = session.handle(m);
    EXPECT_TRUE(r.has_value()) << method;
    return r.value_or(json());
  }
  FakeTools tools;
  Session session{tools, "9.9.9"};
};

TEST_F(McpSession, initialize_echoes_a_known_version_and_offers_tools) {
  json r = request("initialize", {{"protocolVersion", "2025-06-18"}, {"capabilities", json::object()}});
  EXPECT_EQ(r["id"], 1);
  EXPECT_EQ(r["result"]["protocolVersion"], "2025-06-18");
  EXPECT_EQ(r["result"]["serverInfo"]["name"], "ignite");
  EXPECT_EQ(r["result"]["serverInfo"]["version"], "9.9.9");
  EXPECT_TRUE(r["result"]["capabilities"].contains("tools"));
  EXPECT_EQ(session.protocol_version(), "2025-06-18");
}

TEST_F(McpSession, initialize_answers_the_newest_version_to_an_unknown_one) {
  json r = request("initialize", {{"protocolVersion", "2031-01-01"}});
  EXPECT_EQ(r["result"]["protocolVersion"], std::string(kLatestProtocolVersion));
  json bad = request("initialize", {{"protocolVersion", 20250618}});
  EXPECT_EQ(bad["error"]["code"], kInvalidParams);
}

TEST_F(McpSession, ping_list_and_call) {
  EXPECT_EQ(request("ping")["result"], json::object());
  EXPECT_EQ(request("ping", nullptr)["result"], json::object());  // params may be absent
  EXPECT_EQ(request("tools/list")["result"]["tools"][0]["name"], "echo");
  json r = request("tools/call", {{"name", "echo"}, {"arguments", {{"x", 1}}}}, "abc");
  EXPECT_EQ(r["id"], "abc");
  EXPECT_EQ(r["result"]["structuredContent"], json({{"x", 1}}));
  // Absent or null arguments are an empty object.
  request("tools/call", {{"name", "echo"}});
  EXPECT_EQ(tools.last_arguments, json::object());
  request("tools/call", {{"name", "echo"}, {"arguments", nullptr}});
  EXPECT_EQ(tools.last_arguments, json::object());
}

TEST_F(McpSession, call_errors_are_invalid_params) {
  EXPECT_EQ(request("tools/call", {{"name", "nope"}})["error"]["code"], kInvalidParams);
  EXPECT_EQ(request("tools/call", {{"name", 5}})["error"]["code"], kInvalidParams);
  EXPECT_EQ(request("tools/call", {{"name", "echo"}, {"arguments", json::array()}})["error"]["code"], kInvalidParams);
  EXPECT_EQ(request("tools/call", json::array(), 2)["error"]["code"], kInvalidParams);
}

TEST_F(McpSession, unknown_methods_are_method_not_found) {
  json r = request("resources/list");
  EXPECT_EQ(r["error"]["code"], kMethodNotFound);
  EXPECT_EQ(r["id"], 1);
}

TEST_F(McpSession, malformed_messages_get_invalid_request) {
  EXPECT_EQ(session.handle(json::array({1, 2}))->at("error")["code"], kInvalidRequest);  // a batch
  EXPECT_EQ(session.handle(json("text"))->at("error")["code"], kInvalidRequest);
  EXPECT_EQ(session.handle(json{{"id", 1}, {"method", "ping"}})->at("error")["code"], kInvalidRequest);
  EXPECT_EQ(session.handle(json{{"jsonrpc", "1.0"}, {"id", 1}, {"method", "ping"}})->at("error")["code"],
            kInvalidRequest);
  EXPECT_EQ(session.handle(json{{"jsonrpc", "2.0"}, {"id", 1}, {"method", 5}})->at("error")["code"], kInvalidRequest);
  for (json id : {json(1.5), json(true), json::object(), json::array()}) {
    auto r = session.handle(json{{"jsonrpc", "2.0"}, {"id", id}, {"method", "ping"}});
    ASSERT_TRUE(r);
    EXPECT_EQ((*r)["error"]["code"], kInvalidRequest) << id;
    EXPECT_TRUE((*r)["id"].is_null());
  }
}

TEST_F(McpSession, notifications_and_responses_get_no_reply) {
  EXPECT_FALSE(session.handle(json{{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}}));
  EXPECT_FALSE(session.handle(json{{"jsonrpc", "2.0"}, {"method", "notifications/cancelled"}, {"params", {{"requestId", 3}}}}));
  EXPECT_FALSE(session.handle(json{{"jsonrpc", "2.0"}, {"method", "notifications/x"}, {"params", 5}}));
  EXPECT_FALSE(session.handle(json{{"jsonrpc", "2.0"}, {"id", 9}, {"result", json::object()}}));
}

TEST_F(McpSession, the_stop_token_reaches_the_tool) {
  std::stop_source source;
  session.handle(json{{"jsonrpc", "2.0"}, {"id", 1}, {"method", "tools/call"}, {"params", {{"name", "echo"}}}},
                 source.get_token());
  EXPECT_TRUE(tools.saw_stop);
}

TEST(McpClassify, what_a_transport_routes) {
  auto call = classify(json{{"jsonrpc", "2.0"}, {"id", 4}, {"method", "tools/call"}});
  EXPECT_TRUE(call.tool_call);
  EXPECT_EQ(call.id, json(4));
  auto list = classify(json{{"jsonrpc", "2.0"}, {"id", "x"}, {"method", "tools/list"}});
  EXPECT_FALSE(list.tool_call);
  auto cancel = classify(json{{"jsonrpc", "2.0"}, {"method", "notifications/cancelled"}, {"params", {{"requestId", "x"}}}});
  EXPECT_EQ(cancel.cancels, json("x"));
  EXPECT_FALSE(cancel.id);
  // A cancellation naming no valid id, and a tools/call without an id, route nowhere.
  EXPECT_FALSE(classify(json{{"jsonrpc", "2.0"}, {"method", "notifications/cancelled"}, {"params", {{"requestId", 1.5}}}}).cancels);
  EXPECT_FALSE(classify(json{{"jsonrpc", "2.0"}, {"method", "tools/call"}}).tool_call);
  EXPECT_FALSE(classify(json(3)).tool_call);
}

TEST(McpRunResult, text_says_status_metrics_and_both_streams) {
  json doc = {{"status", "runtime_error"}, {"exitCode", 3}, {"runtime", "python@3.11.2"},
              {"stdout", "aGk="}, {"stdoutEncoding", "base64"}, {"stderr", "boom"}, {"stderrTruncated", true},
              {"metrics", {{"executionTimeMs", 12.34}, {"cpuTimeMs", 5.0}, {"memoryUsedMb", 7.25}}}};
  json r = run_result(doc);
  EXPECT_EQ(r["structuredContent"], doc);
  EXPECT_EQ(r["isError"], false);
  const std::string text = r["content"][0]["text"];
  EXPECT_NE(text.find("status: runtime_error (exit 3), python@3.11.2, wall 12.3 ms, cpu 5.0 ms, peak memory 7.2 MB"),
            std::string::npos) << text;
  EXPECT_NE(text.find("--- stdout (base64) ---\naGk="), std::string::npos) << text;
  EXPECT_NE(text.find("--- stderr ---\nboom\n[truncated]"), std::string::npos) << text;
  EXPECT_EQ(tool_error("x")["isError"], true);
}

}  // namespace
}  // namespace ignite::mcp
