// `ignite serve` end to end: every CONTRACT §5 route answers with its documented shape.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include "server_helpers.hpp"

namespace ignite::testing {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

class ServerRoutes : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<ServerProcess>(ServeOptions{{"--services", examples_dir()}, {}});
    ASSERT_TRUE(server_->started()) << server_->stderr_text();
  }
  ServerProcess& s() { return *server_; }
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(ServerRoutes, port_zero_prints_a_real_port_and_health_answers) {
  auto r = s().get("/health");
  ASSERT_EQ(r.status, 200);
  Json j = r.json();
  EXPECT_EQ(j["status"], "ok");
  EXPECT_EQ(j["version"], IGNITE_VERSION);
  EXPECT_TRUE(j["uptimeS"].is_number());
  EXPECT_EQ(r.header("content-type"), "application/json");
}

TEST_F(ServerRoutes, services_lists_only_valid_service_dirs) {
  auto r = s().get("/services");
  ASSERT_EQ(r.status, 200) << r.body;
  bool found = false;
  const Json list = r.json();
  for (const auto& svc : list["services"]) {
    for (const char* k : {"name", "runtime", "entry", "memoryMb", "timeoutMs"}) EXPECT_TRUE(svc.contains(k)) << svc;
    if (svc["name"] == "data-processor") {
      found = true;
      EXPECT_EQ(svc["runtime"], "bun");
      EXPECT_EQ(svc["entry"], "index.ts");
    }
  }
  EXPECT_TRUE(found) << r.body;
}

TEST_F(ServerRoutes, service_details_and_unknown_service) {
  auto r = s().get("/services/data-processor");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["name"], "data-processor");
  EXPECT_TRUE(r.json()["lastRun"].is_null());
  auto missing = s().get("/services/no-such-service");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.json()["error"]["code"], "not_found");
}

TEST_F(ServerRoutes, preflight_route_returns_the_checks) {
  auto r = s().get("/services/data-processor/preflight");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["serviceName"], "data-processor");
  EXPECT_EQ(r.json()["preflight"]["overallStatus"], "pass");
  EXPECT_GE(r.json()["preflight"]["checks"].size(), 4u);
}

// The seed walkthrough's curl.
TEST_F(ServerRoutes, seed_walkthrough_execute_sums) {
  REQUIRE_SANDBOX();
  auto r = s().post("/services/data-processor/execute", R"J({"input":{"data":[1,2,3],"operation":"sum"}})J");
  ASSERT_EQ(r.status, 200) << r.body;
  Json doc = r.json();
  EXPECT_EQ(doc["success"], true);
  EXPECT_EQ(doc["status"], "ok");
  EXPECT_NE(doc["output"].get<std::string>().find("\"result\":6"), std::string::npos) << r.body;
  EXPECT_EQ(doc["serviceName"], "data-processor");
  EXPECT_TRUE(doc.contains("metrics") && doc.contains("limits") && doc.contains("preflight"));
  // ... and the service now has a last run.
  auto details = s().get("/services/data-processor").json();
  EXPECT_EQ(details["lastRun"]["status"], "ok") << details;
}

TEST_F(ServerRoutes, adhoc_execute_runs_python_and_a_failing_program_is_200) {
  REQUIRE_SANDBOX();
  auto ok = s().post("/v1/execute", R"J({"runtime":"python","code":"import sys\nprint(sys.stdin.read().upper())","stdin":"hi"})J");
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.json()["stdout"], "HI\n");
  EXPECT_EQ(ok.json()["runtime"].get<std::string>().rfind("python@", 0), 0u);

  auto failing = s().post("/v1/execute", R"J({"runtime":"python","code":"raise SystemExit(3)"})J");
  ASSERT_EQ(failing.status, 200) << failing.body;
  EXPECT_EQ(failing.json()["success"], false);
  EXPECT_EQ(failing.json()["status"], "runtime_error");
  EXPECT_EQ(failing.json()["exitCode"], 3);
}

TEST_F(ServerRoutes, v1_runtimes_lists_what_is_installed) {
  auto r = s().get("/v1/runtimes");
  ASSERT_EQ(r.status, 200);
  bool python = false;
  const Json list = r.json();
  for (const auto& rt : list["runtimes"]) {
    EXPECT_TRUE(rt["version"].is_string());
    python = python || rt["name"] == "python";
  }
  EXPECT_TRUE(python) << r.body;
}

TEST_F(ServerRoutes, jobs_run_async_and_idempotency_keys_dedupe) {
  REQUIRE_SANDBOX();
  const std::string body = R"J({"runtime":"python","code":"print(7*6)","idempotencyKey":"k-1"})J";
  auto first = s().post("/v1/jobs", body);
  ASSERT_EQ(first.status, 202) << first.body;
  const std::string id = first.json()["id"];
  EXPECT_EQ(first.json()["status"], "queued");
  auto again = s().post("/v1/jobs", body);
  ASSERT_EQ(again.status, 202);
  EXPECT_EQ(again.json()["id"], id) << "same idempotency key, same job";

  Json job;
  for (int i = 0; i < 200; ++i) {
    job = s().get("/v1/jobs/" + id).json();
    if (job["status"] == "done" || job["status"] == "failed") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(job["status"], "done") << job;
  EXPECT_EQ(job["result"]["stdout"], "42\n");
  EXPECT_EQ(s().get("/v1/jobs/0123456789abcdef").status, 404);
}

TEST_F(ServerRoutes, openapi_describes_every_contract_route) {
  auto r = s().get("/openapi.json");
  ASSERT_EQ(r.status, 200);
  Json doc = r.json();
  EXPECT_EQ(doc["openapi"].get<std::string>().rfind("3.", 0), 0u);
  for (const char* path : {"/health", "/services", "/services/{name}", "/services/{name}/preflight",
                           "/services/{name}/execute", "/v1/execute", "/v1/jobs", "/v1/jobs/{id}",
                           "/v1/runtimes", "/api/v2/runtimes", "/api/v2/execute", "/metrics",
                           "/openapi.json"})
    EXPECT_TRUE(doc["paths"].contains(path)) << path;
}

TEST_F(ServerRoutes, metrics_count_executions_by_runtime_and_status) {
  REQUIRE_SANDBOX();
  ASSERT_EQ(s().post("/v1/execute", R"J({"runtime":"python","code":"print(1)"})J").status, 200);
  auto r = s().get("/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_NE(r.header("content-type").find("text/plain"), std::string::npos);
  for (const char* needle :
       {"ignite_executions_total{runtime=\"python\",status=\"ok\"} 1",
        "ignite_execution_duration_seconds_bucket{runtime=\"python\",le=\"+Inf\"} 1",
        "ignite_execution_peak_memory_bytes_count{runtime=\"python\"} 1", "ignite_queue_depth 0",
        "ignite_executions_in_flight 0", "# TYPE ignite_rejected_total counter"})
    EXPECT_NE(r.body.find(needle), std::string::npos) << needle << "\n" << r.body;
}

TEST_F(ServerRoutes, promtool_accepts_the_metrics) {
  if (std::system("command -v promtool >/dev/null 2>&1") != 0)
    GTEST_SKIP() << "promtool not installed (Debian package 'prometheus', see scripts/install-deps)";
  if (sandbox_available()) s().post("/v1/execute", R"J({"runtime":"python","code":"print(1)"})J");
  s().get("/services/nope");  // a 404 in the response counters
  auto r = s().get("/metrics");
  ASSERT_EQ(r.status, 200);
  const std::string file = "/tmp/ignite-metrics-" + std::to_string(::getpid()) + ".txt";
  std::ofstream(file) << r.body;
  const std::string cmd = "promtool check metrics < " + file + " 2>&1";
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  char buf[512];
  while (std::fgets(buf, sizeof buf, p)) out += buf;
  const int rc = ::pclose(p);
  fs::remove(file);
  EXPECT_EQ(rc, 0) << out << "\n" << r.body;
}

}  // namespace
}  // namespace ignite::testing
