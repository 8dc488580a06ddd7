// Async jobs (issue 9, findings 12 and 21): a kept result is one shared buffer whatever the
// number of readers, kept results are bounded, and a job is readable only by its own key.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <thread>

#include "server_helpers.hpp"

namespace ignite::testing {
namespace {

using Json = nlohmann::json;
using namespace std::chrono_literals;

// Polls GET /v1/jobs/:id until the job has finished; the last response.
HttpResponse finished_job(const ServerProcess& s, const std::string& id, const Headers& headers = {}) {
  HttpResponse r;
  for (int i = 0; i < 300; ++i) {
    r = s.get("/v1/jobs/" + id, headers);
    if (r.status != 200) return r;
    const std::string status = r.json()["status"];
    if (status == "done" || status == "failed") return r;
    std::this_thread::sleep_for(50ms);
  }
  return r;
}

TEST(ServerJobs, a_kept_job_result_is_shared_not_copied_per_reader) {
  REQUIRE_SANDBOX();
  ServerProcess s({{}, {}});
  ASSERT_TRUE(s.started());
  // 1 MiB of a control character: JSON escapes each as \u0001, in "stdout" and in "output".
  auto submitted = s.post("/v1/jobs", R"J({"runtime":"python","code":"import sys\nsys.stdout.write(chr(1) * (1 << 20))"})J");
  ASSERT_EQ(submitted.status, 202) << submitted.body;
  const std::string id = submitted.json()["id"];
  auto done = finished_job(s, id);
  ASSERT_EQ(done.status, 200);
  ASSERT_EQ(done.json()["status"], "done") << done.body.substr(0, 300);
  const std::size_t size = done.body.size();
  ASSERT_GT(size, 8u << 20) << "the result should be several MiB";

  // 60 readers (each from its own address, as 60 clients) ask for it and never read.
  const long rss_before = s.rss_kib();
  std::vector<std::unique_ptr<RawConnection>> readers;
  for (int i = 0; i < 60; ++i) {
    readers.push_back(std::make_unique<RawConnection>(s.port(), "127.0.2." + std::to_string(i + 1)));
    ASSERT_TRUE(readers.back()->send(format_request("GET", "/v1/jobs/" + id, "", {}, true))) << i;
  }
  long max_rss = 0;
  for (int i = 0; i < 30; ++i) {
    max_rss = std::max(max_rss, s.rss_kib());
    std::this_thread::sleep_for(50ms);
  }
  std::printf("[jobs] result %zu bytes, 60 stalled readers: RSS %ld KiB before, max %ld KiB\n", size,
              rss_before, max_rss);
  EXPECT_LT(max_rss - rss_before, 64 * 1024) << "each reader got its own copy";
  EXPECT_LT(max_rss, 200 * 1024);
  // A reader that does read gets all of it, intact.
  auto again = s.get("/v1/jobs/" + id);
  ASSERT_EQ(again.status, 200);
  EXPECT_EQ(again.body, done.body);
  EXPECT_EQ(again.json()["result"]["stdout"].get<std::string>(), std::string(1 << 20, '\x01'));
}

TEST(ServerJobs, a_result_over_the_per_job_bound_is_replaced_by_an_error) {
  REQUIRE_SANDBOX();
  ServerProcess s({{"--max-job-result-bytes", "100000"}, {}});
  ASSERT_TRUE(s.started());
  auto submitted = s.post("/v1/jobs", R"J({"runtime":"python","code":"print('x' * 200000)"})J");
  ASSERT_EQ(submitted.status, 202) << submitted.body;
  auto r = finished_job(s, submitted.json()["id"]);
  ASSERT_EQ(r.status, 200);
  const Json doc = r.json();
  EXPECT_EQ(doc["status"], "failed") << r.body;
  EXPECT_EQ(doc["error"]["code"], "result_too_large") << r.body;
  EXPECT_NE(doc["error"]["message"].get<std::string>().find("--max-job-result-bytes"), std::string::npos);
  EXPECT_LT(r.body.size(), 1000u);
}

TEST(ServerJobs, a_job_is_readable_only_by_the_key_that_created_it) {
  ServerProcess s({{"--api-key", "key-a", "--api-key", "key-b"}, {}});
  ASSERT_TRUE(s.started());
  const Headers a = {{"Authorization", "Bearer key-a"}};
  const Headers b = {{"Authorization", "Bearer key-b"}};
  auto submitted = s.post("/v1/jobs", R"J({"runtime":"python","code":"print(42)"})J", a);
  ASSERT_EQ(submitted.status, 202) << submitted.body;
  const std::string id = submitted.json()["id"];
  EXPECT_EQ(s.get("/v1/jobs/" + id, a).status, 200);
  auto other = s.get("/v1/jobs/" + id, b);
  EXPECT_EQ(other.status, 404) << other.body;
  // Exactly what an unknown id answers: another key learns nothing, not even that it exists.
  auto unknown = s.get("/v1/jobs/0123456789abcdef0123456789abcdef", b);
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(other.body, unknown.body);
  // The owner still reads it to the end.
  EXPECT_EQ(finished_job(s, id, a).status, 200);
  EXPECT_EQ(s.get("/v1/jobs/" + id, b).status, 404);
}

}  // namespace
}  // namespace ignite::testing
