// Lifecycle: SIGTERM drains (in-flight runs finish, new work gets 503, /health says draining),
// the grace period bounds it (the rest is cancelled), and the server exits 0.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <future>
#include <random>
#include <thread>

#include "server_helpers.hpp"

namespace ignite::testing {
namespace {

using Json = nlohmann::json;

// Waits until /health reports `n` runs in flight.
bool wait_in_flight(const ServerProcess& s, int n) {
  for (int i = 0; i < 300; ++i) {
    auto h = s.get("/health");
    if (h.status == 200 && h.json()["inFlight"] == n) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

TEST(ServerLifecycle, sigterm_finishes_in_flight_runs_refuses_new_work_and_exits_0) {
  REQUIRE_SANDBOX();
  ServerProcess s({{"--grace-ms", "20000"}, {}});
  ASSERT_TRUE(s.started());
  const int port = s.port();
  auto in_flight = std::async(std::launch::async, [port] {
    return http_request(port, "POST", "/v1/execute",
                        R"J({"runtime":"python","code":"import time\ntime.sleep(1.5)\nprint('finished')"})J");
  });
  ASSERT_TRUE(wait_in_flight(s, 1));
  s.signal(SIGTERM);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto health = s.get("/health");
  EXPECT_EQ(health.status, 503);
  EXPECT_EQ(health.json()["status"], "draining");
  auto refused = s.post("/v1/execute", R"J({"runtime":"python","code":"print(1)"})J");
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(refused.json()["error"]["code"], "draining");

  auto r = in_flight.get();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["success"], true);
  EXPECT_EQ(r.json()["stdout"], "finished\n");
  EXPECT_EQ(s.wait_exit(std::chrono::seconds(15)), std::optional<int>(0)) << s.stderr_text();
}

TEST(ServerLifecycle, grace_period_expiry_cancels_what_is_left_and_exits_0) {
  REQUIRE_SANDBOX();
  ServerProcess s({{"--grace-ms", "300"}, {}});
  ASSERT_TRUE(s.started());
  std::random_device rd;
  const std::string token = "ignite-grace-token-" + std::to_string(rd());
  const int port = s.port();
  auto in_flight = std::async(std::launch::async, [port, token] {
    const Json body = {{"runtime", "python"}, {"code", "import time\ntime.sleep(60)"},
                       {"args", {token}}, {"timeoutMs", 60000}};
    return http_request(port, "POST", "/v1/execute", body.dump());
  });
  ASSERT_TRUE(wait_in_flight(s, 1));
  const auto start = std::chrono::steady_clock::now();
  s.signal(SIGTERM);
  EXPECT_EQ(s.wait_exit(std::chrono::seconds(15)), std::optional<int>(0)) << s.stderr_text();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(8));
  auto r = in_flight.get();
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["status"], "cancelled");
  EXPECT_EQ(sandbox_processes(s, token), 0) << "a sandbox survived the server";
}

TEST(ServerLifecycle, sigterm_when_idle_exits_0_promptly) {
  ServerProcess s({{}, {}});
  ASSERT_TRUE(s.started());
  s.signal(SIGTERM);
  EXPECT_EQ(s.wait_exit(std::chrono::seconds(10)), std::optional<int>(0)) << s.stderr_text();
}

TEST(ServerLifecycle, a_busy_port_is_exit_125_with_a_reason) {
  ServerProcess first({{}, {}});
  ASSERT_TRUE(first.started());
  ServerProcess second({{"--port", std::to_string(first.port())}, {}});
  EXPECT_FALSE(second.started());
  EXPECT_EQ(second.wait_exit(std::chrono::seconds(10)), std::optional<int>(125));
  EXPECT_NE(second.stderr_text().find("cannot listen"), std::string::npos) << second.stderr_text();
}

// Started with the common soft limit of 1024 descriptors, the server raises its own (up to the
// hard limit) so that its connection ceiling is reachable.
TEST(ServerLifecycle, raises_its_descriptor_limit_for_its_connection_ceiling) {
  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &saved), 0);
  if (saved.rlim_max != RLIM_INFINITY && saved.rlim_max < 2048)
    GTEST_SKIP() << "the hard RLIMIT_NOFILE here (" << saved.rlim_max << ") leaves nothing to raise";
  rlimit low = saved;
  low.rlim_cur = 1024;
  ASSERT_EQ(::setrlimit(RLIMIT_NOFILE, &low), 0);
  ServerProcess s({{"--max-connections", "1500"}, {}});
  ::setrlimit(RLIMIT_NOFILE, &saved);
  ASSERT_TRUE(s.started()) << s.stderr_text();
  std::ifstream limits("/proc/" + std::to_string(s.pid()) + "/limits");
  long soft = 0;
  for (std::string line; std::getline(limits, line);) {
    if (line.rfind("Max open files", 0) == 0) soft = std::atol(line.c_str() + 14);
  }
  EXPECT_GE(soft, 1500) << "soft RLIMIT_NOFILE of the server";
}

}  // namespace
}  // namespace ignite::testing
