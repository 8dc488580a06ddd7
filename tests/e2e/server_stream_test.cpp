// Streaming: output as Server-Sent Events while the program runs, then the result document;
// a client that disconnects cancels the run and its sandbox is killed.
#include <gtest/gtest.h>
#include <unistd.h>

#include <random>
#include <thread>

#include "server_helpers.hpp"

namespace ignite::testing {
namespace {

using Json = nlohmann::json;

struct Event {
  std::string name;
  Json data;
};

// Parses "event: x\ndata: {...}\n\n" blocks (comments such as ": ping" are skipped).
std::vector<Event> parse_events(const std::string& text) {
  std::vector<Event> out;
  std::size_t pos = 0;
  while ((pos = text.find("event: ", pos)) != std::string::npos) {
    const auto eol = text.find('\n', pos);
    const auto data = text.find("data: ", eol);
    const auto end = text.find("\n\n", data);
    if (eol == std::string::npos || data == std::string::npos || end == std::string::npos) break;
    out.push_back({text.substr(pos + 7, eol - pos - 7), Json::parse(text.substr(data + 6, end - data - 6))});
    pos = end;
  }
  return out;
}

std::string unique_token() {
  std::random_device rd;
  return "ignite-stream-token-" + std::to_string(::getpid()) + "-" + std::to_string(rd());
}

TEST(ServerStream, output_arrives_as_events_before_the_result) {
  REQUIRE_SANDBOX();
  ServerProcess s({{}, {}});
  ASSERT_TRUE(s.started());
  RawConnection c(s.port());
  ASSERT_TRUE(c.send(format_request(
      "POST", "/v1/execute?stream=1",
      R"J({"runtime":"python","code":"import sys,time\nprint('one',flush=True)\ntime.sleep(0.6)\nprint('two',file=sys.stderr,flush=True)\nprint('caf\u00e9')"})J",
      {})));
  // "one" must arrive while the program is still sleeping, i.e. before the result exists.
  ASSERT_TRUE(c.read_until("one", std::chrono::seconds(15))) << c.received();
  EXPECT_EQ(c.received().find("event: result"), std::string::npos) << "output was not streamed live";
  ASSERT_TRUE(c.read_to_eof(std::chrono::seconds(15)));
  auto r = parse_response(c.received());
  ASSERT_EQ(r.status, 200) << c.received();
  EXPECT_EQ(r.header("content-type"), "text/event-stream");
  auto events = parse_events(r.body);
  ASSERT_GE(events.size(), 3u) << r.body;
  std::string out, err;
  for (std::size_t i = 0; i + 1 < events.size(); ++i) {
    ASSERT_TRUE(events[i].name == "stdout" || events[i].name == "stderr") << events[i].name;
    (events[i].name == "stdout" ? out : err) += events[i].data["text"].get<std::string>();
  }
  EXPECT_EQ(out, "one\ncaf\u00e9\n");
  EXPECT_EQ(err, "two\n");
  ASSERT_EQ(events.back().name, "result");
  EXPECT_EQ(events.back().data["success"], true);
  EXPECT_EQ(events.back().data["stdout"], "one\ncaf\u00e9\n");
}

TEST(ServerStream, service_execute_streams_too) {
  REQUIRE_SANDBOX();
  ServerProcess s({{"--services", examples_dir()}, {}});
  ASSERT_TRUE(s.started());
  auto r = s.post("/services/data-processor/execute?stream=1", R"J({"input":{"data":[1,2,3],"operation":"sum"}})J");
  ASSERT_EQ(r.status, 200) << r.body;
  auto events = parse_events(r.body);
  ASSERT_FALSE(events.empty()) << r.body;
  ASSERT_EQ(events.back().name, "result") << r.body;
  EXPECT_NE(events.back().data["output"].get<std::string>().find("\"result\":6"), std::string::npos);
}

TEST(ServerStream, client_disconnect_cancels_the_run_and_kills_the_sandbox) {
  REQUIRE_SANDBOX();
  ServerProcess s({{}, {}});
  ASSERT_TRUE(s.started());
  const std::string token = unique_token();
  {
    RawConnection c(s.port());
    const Json body = {{"runtime", "python"},
                       {"code", "import time\nprint('started', flush=True)\ntime.sleep(60)"},
                       {"args", {token}},
                       {"timeoutMs", 60000}};
    ASSERT_TRUE(c.send(format_request("POST", "/v1/execute?stream=1", body.dump(), {})));
    ASSERT_TRUE(c.read_until("started", std::chrono::seconds(15))) << c.received();
    ASSERT_GE(sandbox_processes(s, token), 1) << "the sandboxed program should be running";
  }  // the client hangs up here
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (sandbox_processes(s, token) > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(sandbox_processes(s, token), 0) << "the sandbox outlived its client";
  std::string metrics;
  for (int i = 0; i < 50; ++i) {  // the run's bookkeeping finishes just after the kill
    metrics = s.get("/metrics").body;
    if (metrics.find("ignite_executions_in_flight 0") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_NE(metrics.find("ignite_executions_in_flight 0"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("ignite_executions_total{runtime=\"python\",status=\"cancelled\"} 1"),
            std::string::npos) << metrics;
  EXPECT_NE(metrics.find("ignite_stream_disconnects_total 1"), std::string::npos) << metrics;
}

}  // namespace
}  // namespace ignite::testing
