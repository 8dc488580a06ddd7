// `ignite serve` refuses what it must: every CONTRACT §5 error code, with the error shape.
#include <gtest/gtest.h>

#include <sstream>
#include <thread>

#include "server_helpers.hpp"

namespace ignite::testing {
namespace {

using Json = nlohmann::json;

void expect_error(const HttpResponse& r, int status, const std::string& code = "") {
  EXPECT_EQ(r.status, status) << r.body;
  if (r.status != status) return;
  Json j = Json::parse(r.body, nullptr, false);
  ASSERT_TRUE(j.is_object() && j.contains("error")) << r.body;
  EXPECT_TRUE(j["error"]["code"].is_string() && j["error"]["message"].is_string()) << r.body;
  if (!code.empty()) {
    EXPECT_EQ(j["error"]["code"], code) << r.body;
  }
}

TEST(ServerErrors, malformed_json_and_wrong_types_are_400_naming_the_problem) {
  ServerProcess s({{"--services", examples_dir()}, {}});
  ASSERT_TRUE(s.started());
  expect_error(s.post("/v1/execute", "{not json"), 400, "bad_request");
  auto wrong = s.post("/v1/execute", R"J({"runtime":"python","code":42})J");
  expect_error(wrong, 400);
  EXPECT_NE(wrong.body.find("code"), std::string::npos) << "the message names the field";
  expect_error(s.post("/services/data-processor/execute", R"J({"skipPreflight":"yes"})J"), 400);
}

TEST(ServerErrors, valid_json_invalid_request_is_422) {
  ServerProcess s({{}, {}});
  ASSERT_TRUE(s.started());
  expect_error(s.post("/v1/execute", R"J({"runtime":"cobol","code":"x"})J"), 422);
  expect_error(s.post("/v1/execute", R"J({"runtime":"python"})J"), 422);
  expect_error(s.post("/v1/execute", R"J({"runtime":"python","code":"x","memoryMb":999999})J"), 422);
  expect_error(s.post("/v1/execute", R"J({"runtime":"python","files":[{"name":"../x.py","content":"1"}]})J"), 422);
}

TEST(ServerErrors, api_key_is_required_everywhere_but_health) {
  ServerProcess s({{"--services", examples_dir(), "--api-key", "k1"}, {"IGNITE_API_KEY=k2,k3"}});
  ASSERT_TRUE(s.started());
  EXPECT_EQ(s.get("/health").status, 200);
  for (const char* path : {"/services", "/v1/runtimes", "/metrics", "/openapi.json", "/api/v2/runtimes"})
    expect_error(s.get(path), 401, "unauthorized");
  expect_error(s.get("/services", {{"Authorization", "Bearer wrong"}}), 401);
  expect_error(s.get("/services", {{"Authorization", "Bearer k1x"}}), 401);
  EXPECT_EQ(s.get("/services", {{"Authorization", "Bearer k1"}}).status, 200);
  EXPECT_EQ(s.get("/services", {{"Authorization", "Bearer k3"}}).status, 200) << "keys from IGNITE_API_KEY";
  EXPECT_EQ(s.get("/services", {{"X-API-Key", "k2"}}).status, 200);
  auto r = s.post("/v1/execute", R"J({"runtime":"python","code":"print(1)"})J");
  expect_error(r, 401);
  EXPECT_EQ(r.header("www-authenticate"), "Bearer");
}

TEST(ServerErrors, unknown_routes_and_services_are_404_and_traversal_never_escapes) {
  ServerProcess s({{"--services", examples_dir()}, {}});
  ASSERT_TRUE(s.started());
  expect_error(s.get("/nope"), 404);
  expect_error(s.get("/services/does-not-exist"), 404, "not_found");
  // Encoded or not, "../" never reaches the file system: 400 (not a name) or 404 (no route).
  for (const char* target : {"/services/..%2F..%2Fetc/execute", "/services/%2e%2e/execute",
                             "/services/..", "/services/..%2Fdata-processor", "/services/%2Fetc%2Fpasswd/preflight",
                             "/services/Data-Processor"}) {
    auto r = std::string(target).find("execute") != std::string::npos ? s.post(target, "{}") : s.get(target);
    EXPECT_TRUE(r.status == 400 || r.status == 404) << target << " -> " << r.status << " " << r.body;
    EXPECT_NE(r.status, 200) << target;
  }
}

TEST(ServerErrors, body_over_the_limit_is_413) {
  ServerProcess s({{"--body-limit", "4096"}, {}});
  ASSERT_TRUE(s.started());
  const std::string big = R"J({"runtime":"python","code":")J" + std::string(8192, 'x') + "\"}";
  expect_error(s.post("/v1/execute", big), 413, "payload_too_large");
  // The default limit is 1 MiB.
  ServerProcess d({{}, {}});
  ASSERT_TRUE(d.started());
  expect_error(d.post("/v1/execute", std::string((1 << 20) + 10, ' ')), 413);
}

TEST(ServerErrors, rate_limit_is_429_with_retry_after_per_client) {
  ServerProcess s({{"--rate-limit", "1", "--rate-burst", "3", "--api-key", "a", "--api-key", "b"}, {}});
  ASSERT_TRUE(s.started());
  int ok = 0;
  HttpResponse limited;
  for (int i = 0; i < 6; ++i) {
    auto r = s.get("/v1/runtimes", {{"Authorization", "Bearer a"}});
    if (r.status == 200) ++ok;
    if (r.status == 429) limited = r;
  }
  EXPECT_LE(ok, 4);  // the burst, plus perhaps one token refilled meanwhile
  expect_error(limited, 429, "rate_limited");
  EXPECT_GE(std::atoi(limited.header("retry-after").c_str()), 1);
  // Another key has its own budget.
  EXPECT_EQ(s.get("/v1/runtimes", {{"Authorization", "Bearer b"}}).status, 200);
  // /health is never rate limited.
  EXPECT_EQ(s.get("/health").status, 200);
}

TEST(ServerErrors, x_forwarded_for_is_ignored_without_a_trusted_proxy) {
  ServerProcess s({{"--rate-limit", "1", "--rate-burst", "2"}, {}});
  ASSERT_TRUE(s.started());
  int limited = 0;
  for (int i = 0; i < 5; ++i) {
    auto r = s.get("/v1/runtimes", {{"X-Forwarded-For", "10.0.0." + std::to_string(i)}});
    if (r.status == 429) ++limited;
  }
  EXPECT_GE(limited, 2) << "a client must not get a fresh budget by inventing addresses";
}

TEST(ServerErrors, full_queue_is_429_with_retry_after) {
  if (!sandbox_available()) GTEST_SKIP() << "needs root for the native sandbox";
  ServerProcess s({{"--max-concurrent", "1", "--max-queue", "0"}, {}});
  ASSERT_TRUE(s.started());
  // Hold the only slot with a streaming run that waits, then ask for another.
  RawConnection hold(s.port());
  ASSERT_TRUE(hold.send(format_request(
      "POST", "/v1/execute?stream=1",
      R"J({"runtime":"python","code":"import time\nprint('started',flush=True)\ntime.sleep(20)"})J", {})));
  ASSERT_TRUE(hold.read_until("started", std::chrono::seconds(15))) << hold.received();
  auto r = s.post("/v1/execute", R"J({"runtime":"python","code":"print(1)"})J");
  expect_error(r, 429, "queue_full");
  EXPECT_EQ(r.header("retry-after"), "1");
  auto m = s.get("/metrics").body;
  EXPECT_NE(m.find("ignite_rejected_total{reason=\"queue_full\"} 1"), std::string::npos) << m;
  EXPECT_NE(m.find("ignite_executions_in_flight 1"), std::string::npos) << m;
}

TEST(ServerErrors, rejected_request_with_a_body_does_not_poison_the_connection) {
  ServerProcess s({{"--api-key", "k"}, {}});
  ASSERT_TRUE(s.started());
  // Unauthenticated POST with a body, then a good request on the same connection: the server
  // must either close (so the body is never parsed as a request) or have consumed the body.
  RawConnection c(s.port());
  const std::string evil_body = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  ASSERT_TRUE(c.send(format_request("POST", "/v1/execute", evil_body, {}, /*keep_alive=*/true)));
  c.read_to_eof(std::chrono::seconds(5));
  auto first = parse_response(c.received());
  EXPECT_EQ(first.status, 401);
  EXPECT_EQ(c.received().find("ignite_"), std::string::npos) << "the body was executed as a request";
}

TEST(ServerErrors, request_ids_are_echoed_and_logged_as_json) {
  ServerProcess s({{}, {}});
  ASSERT_TRUE(s.started());
  auto mine = s.get("/health", {{"X-Request-Id", "req-abc.123"}});
  EXPECT_EQ(mine.header("x-request-id"), "req-abc.123");
  auto generated = s.get("/nope");
  EXPECT_GE(generated.header("x-request-id").size(), 8u);
  auto hostile = s.get("/health", {{"X-Request-Id", "bad id\" with quotes"}});
  EXPECT_NE(hostile.header("x-request-id"), "bad id\" with quotes");
  // The access log is one JSON object per line on stderr.
  bool seen = false;
  std::istringstream log(s.stderr_text());
  for (std::string line; std::getline(log, line);) {
    Json j = Json::parse(line, nullptr, false);
    if (!j.is_object() || j.value("requestId", "") != "req-abc.123") continue;
    seen = true;
    EXPECT_EQ(j["status"], 200);
    EXPECT_EQ(j["path"], "/health");
    EXPECT_EQ(j["method"], "GET");
    EXPECT_TRUE(j["durationMs"].is_number());
  }
  EXPECT_TRUE(seen) << s.stderr_text();
}

TEST(ServerErrors, slow_client_is_cut_off_by_the_read_timeout) {
  ServerProcess s({{"--read-timeout", "1"}, {}});
  ASSERT_TRUE(s.started());
  RawConnection c(s.port());
  ASSERT_TRUE(c.send("POST /v1/execute HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n{"));
  const auto start = std::chrono::steady_clock::now();
  // The server answers (400) once the body stalls for longer than the read timeout, instead of
  // holding the connection thread for as long as the client likes.
  EXPECT_TRUE(c.read_until("\r\n\r\n", std::chrono::seconds(10))) << "no answer to a stalled body";
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(3));
  EXPECT_EQ(c.received().rfind("HTTP/1.1 400", 0), 0u) << c.received();
  EXPECT_EQ(s.get("/health").status, 200);
}

}  // namespace
}  // namespace ignite::testing
