// `ignite serve` with warm pools: requests take warm slots, pools show in /v1/pools and
// /metrics, a bad --pool is a clear start-up error, and shutdown leaves no sandbox behind.
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdio>
#include <fstream>
#include <thread>

#include "server_helpers.hpp"

namespace ignite::testing {
namespace {

using Json = nlohmann::json;
using namespace std::chrono_literals;

// Waits until /v1/pools shows an idle python slot for ad-hoc code.
bool wait_for_idle_slot(const ServerProcess& s) {
  for (int i = 0; i < 200; ++i) {
    Json j = s.get("/v1/pools").json();
    for (const auto& p : j["pools"])
      if (p["runtime"] == "python" && p["service"] == "" && p["idle"].get<int>() > 0) return true;
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

TEST(ServerPools, a_request_takes_a_warm_slot_and_the_pools_say_so) {
  REQUIRE_SANDBOX();
  const std::string token = "ignite-pool-token-" + std::to_string(::getpid());
  ServerProcess s(ServeOptions{{"--pool", "python=1..2"}, {}});
  ASSERT_TRUE(s.started()) << s.stderr_text();
  // The minimum for ad-hoc code with the default limits is started at once, before any request.
  ASSERT_TRUE(wait_for_idle_slot(s)) << s.get("/v1/pools").body;
  const std::string body =
      R"j({"runtime":"python","code":"import os,sys\nprint(sys.argv[1:], os.environ['IGNITE_INPUT'], sys.stdin.read())","args":["a"],"input":{"k":1},"stdin":")j" +
      token + "\"}";
  auto r = s.post("/v1/execute", body);
  ASSERT_EQ(r.status, 200) << r.body;
  Json j = r.json();
  EXPECT_EQ(j["status"], "ok") << r.body;
  EXPECT_EQ(j["stdout"], "['a'] {\"k\":1} " + token + "\n");
  EXPECT_EQ(j["metrics"]["coldStart"], false) << "the request did not take the warm slot";

  Json pools = s.get("/v1/pools").json();
  ASSERT_EQ(pools["pools"].size(), 1u) << pools.dump();
  EXPECT_EQ(pools["pools"][0]["hits"], 1);
  EXPECT_EQ(pools["pools"][0]["misses"], 0);
  EXPECT_GT(pools["memoryBudgetBytes"].get<long>(), 0);
  const std::string metrics = s.get("/metrics").body;
  EXPECT_NE(metrics.find("ignite_pool_hits_total{runtime=\"python\",service=\"\"} 1"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("ignite_pool_refill_seconds{runtime=\"python\""), std::string::npos);

  // Shutdown destroys every slot: no process of a sandbox outlives the server.
  s.signal(SIGTERM);
  ASSERT_EQ(s.wait_exit(20s), 0) << s.stderr_text();
  EXPECT_EQ(count_processes_with("/opt/ignite/warm/"), 0);
}

TEST(ServerPools, none_turns_pools_off_and_every_run_is_cold) {
  REQUIRE_SANDBOX();
  ServerProcess s(ServeOptions{{"--pool", "none"}, {}});
  ASSERT_TRUE(s.started()) << s.stderr_text();
  for (int i = 0; i < 2; ++i) {
    auto r = s.post("/v1/execute", R"j({"runtime":"python","code":"print(1)"})j");
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json()["metrics"]["coldStart"], true);
  }
  EXPECT_EQ(s.get("/v1/pools").json()["pools"].size(), 0u);
}

TEST(ServerPools, pools_can_come_from_a_config_file) {
  REQUIRE_SANDBOX();
  const std::string path = ::testing::TempDir() + "ignite-pools-" + std::to_string(::getpid()) + ".yaml";
  {
    std::ofstream out(path);
    out << "pools:\n  python: {min: 1, max: 3}\nmemoryMb: 256\nidleSeconds: 5\n";
  }
  ServerProcess s(ServeOptions{{"--pool-config", path}, {}});
  ASSERT_TRUE(s.started()) << s.stderr_text();
  ASSERT_TRUE(wait_for_idle_slot(s)) << s.get("/v1/pools").body;
  Json pools = s.get("/v1/pools").json();
  EXPECT_EQ(pools["memoryBudgetBytes"], 256 << 20);
  EXPECT_EQ(pools["pools"].size(), 1u) << "only python has a pool: " << pools.dump();
  std::remove(path.c_str());
}

TEST(ServerPools, a_bad_pool_flag_stops_serve_with_the_item_named) {
  ServerProcess s(ServeOptions{{"--pool", "python=9..2"}, {}});
  EXPECT_FALSE(s.started());
  EXPECT_EQ(s.wait_exit(10s), 125);
  EXPECT_NE(s.stderr_text().find("--pool 'python=9..2': max is below min"), std::string::npos) << s.stderr_text();
}

}  // namespace
}  // namespace ignite::testing
