// `ignite serve` with warm pools: requests take warm slots, pools show in /v1/pools and
// /metrics, a bad --pool is a clear start-up error, and shutdown leaves no sandbox behind.
#include <gtest/gtest.h>

#include <sstream>

#include <set>
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
  NATIVE_SUITE_ONLY("the microvm suite runs its commands without pools (a VM per idle slot); microVM pools have their own test");
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

  // Other limits are another kind of run: a pool of its own (its first job starts cold).
  ASSERT_EQ(s.post("/v1/execute", R"j({"runtime":"python","code":"print(2)","memoryMb":256})j").status, 200);

  Json pools = s.get("/v1/pools").json();
  ASSERT_EQ(pools["pools"].size(), 2u) << pools.dump();
  Json fast, big;
  for (const Json& p : pools["pools"]) (p["memoryMb"] == 256 ? big : fast) = p;
  ASSERT_TRUE(fast.is_object() && big.is_object()) << pools.dump();
  EXPECT_EQ(fast["hits"], 1);
  EXPECT_EQ(fast["misses"], 0);
  EXPECT_EQ(fast["memoryMb"], 128);
  EXPECT_EQ(big["misses"], 1);
  EXPECT_EQ(fast["id"].get<std::string>().size(), 12u);
  EXPECT_NE(fast["id"], big["id"]);
  EXPECT_GT(pools["memoryBudgetBytes"].get<long>(), 0);
  const std::string metrics = s.get("/metrics").body;
  const std::string id = fast["id"];
  EXPECT_NE(metrics.find("ignite_pool_hits_total{pool=\"" + id + "\",runtime=\"python\",service=\"\"} 1"), std::string::npos)
      << metrics;
  EXPECT_NE(metrics.find("ignite_pool_refill_seconds{pool=\""), std::string::npos);
  // Two pools of one runtime are two series, never one label set twice.
  std::set<std::string> series;
  std::istringstream lines(metrics);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty() && line[0] != '#') {
      EXPECT_TRUE(series.insert(line.substr(0, line.rfind(' '))).second) << line;
    }

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
  NATIVE_SUITE_ONLY("the microvm suite runs its commands without pools (a VM per idle slot); microVM pools have their own test");
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

TEST(ServerPools, a_microvm_server_starts_no_default_pools) {
  // A microVM's warm slot is a whole VM: only named pools start VMs ahead (their test, with
  // QEMU: MicroVmIsolation.a_pool_of_warm_vms_serves_requests_and_leaves_nothing). Nothing here
  // boots a VM: the pools are decided before the backend starts.
  ServerProcess s(ServeOptions{{"--isolation", "microvm"}, {}});
  ASSERT_TRUE(s.started()) << s.stderr_text();
  EXPECT_EQ(s.get("/v1/pools").json()["pools"].size(), 0u);
}

TEST(ServerPools, a_bad_pool_flag_stops_serve_with_the_item_named) {
  // The flag's parse, on the default backend (the microvm suite would turn the pools to none).
  ServerProcess s(ServeOptions{{"--isolation", "native", "--pool", "python=9..2"}, {}});
  EXPECT_FALSE(s.started());
  EXPECT_EQ(s.wait_exit(10s), 125);
  EXPECT_NE(s.stderr_text().find("--pool 'python=9..2': max is below min"), std::string::npos) << s.stderr_text();
}

}  // namespace
}  // namespace ignite::testing
