// The HTTP server's pure parts: the thread pool, admission, rate limits, API keys, request decoding, Piston
// mapping, SSE output events, metrics text.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <latch>
#include <thread>

#include "runner/admission.hpp"
#include "server/auth.hpp"
#include "runner/fixed_pool.hpp"
#include "runner/metrics.hpp"
#include "server/piston.hpp"
#include "server/rate_limiter.hpp"
#include "server/requests.hpp"
#include "server/streaming.hpp"

namespace ignite::server {
using runner::Admission;
using runner::FixedPool;
using runner::Gauges;
using runner::Metrics;
using runner::escape_label;

namespace {

using namespace std::chrono_literals;

TEST(ServerFixedPool, queues_beyond_its_threads_without_blocking_and_runs_everything) {
  std::atomic<int> ran{0};
  std::latch release(1);
  {
    FixedPool pool(4);
    // Four tasks hold every thread; the next 100 must queue, and enqueue() must return at once
    // (it runs on the server's I/O threads).
    for (int i = 0; i < 4; ++i) pool.enqueue([&] { release.wait(); ++ran; });
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 100; ++i) pool.enqueue([&] { ++ran; });
    EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
    EXPECT_EQ(ran.load(), 0);
    release.count_down();
    // Destruction (shutdown) runs what is queued before joining.
  }
  EXPECT_EQ(ran.load(), 104);
}

TEST(ServerFixedPool, idle_threads_take_tasks_as_they_come) {
  FixedPool pool(8);
  std::atomic<int> ran{0};
  for (int round = 0; round < 200; ++round) {
    std::latch done(3);
    for (int i = 0; i < 3; ++i) pool.enqueue([&] { ++ran; done.count_down(); });
    done.wait();  // would hang if a woken thread missed its task
  }
  EXPECT_EQ(ran.load(), 600);
  pool.shutdown();
  pool.shutdown();  // idempotent
}

TEST(ServerAdmission, bounds_running_and_queued_and_releases_on_destruction) {
  Admission a(1, 1);
  Admission::Slot s1;
  ASSERT_EQ(a.acquire(s1, 0ms, {}), Admission::Verdict::admitted);
  EXPECT_EQ(a.running(), 1u);
  std::thread waiter([&] {
    Admission::Slot s2;
    EXPECT_EQ(a.acquire(s2, 5s, {}), Admission::Verdict::admitted);
  });
  while (a.queued() == 0) std::this_thread::yield();
  Admission::Slot s3;
  EXPECT_EQ(a.acquire(s3, 5s, {}), Admission::Verdict::queue_full) << "queue of 1 is full";
  s1.release();
  waiter.join();
  EXPECT_EQ(a.running(), 0u);
  Admission::Slot s4;
  EXPECT_EQ(a.acquire(s4, 0ms, {}), Admission::Verdict::admitted);
  Admission::Slot s5;
  EXPECT_EQ(a.acquire(s5, 10ms, {}), Admission::Verdict::timed_out);
  a.drain();
  Admission::Slot s6;
  EXPECT_EQ(a.acquire(s6, 1s, {}), Admission::Verdict::draining);
  EXPECT_FALSE(a.wait_idle(std::chrono::steady_clock::now() + 10ms));
  s4.release();
  EXPECT_TRUE(a.wait_idle(std::chrono::steady_clock::now() + 1s));
}

TEST(ServerRateLimiter, token_bucket_per_client) {
  RateLimiter r(2, 2);
  const auto t0 = RateLimiter::Clock::now();
  int retry = 0;
  EXPECT_TRUE(r.allow("a", t0, retry));
  EXPECT_TRUE(r.allow("a", t0, retry));
  EXPECT_FALSE(r.allow("a", t0, retry));
  EXPECT_EQ(retry, 1);
  EXPECT_TRUE(r.allow("b", t0, retry)) << "clients have separate buckets";
  EXPECT_TRUE(r.allow("a", t0 + 500ms, retry)) << "refilled at 2/s";
  RateLimiter off(0, 0);
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(off.allow("a", t0, retry));
}

TEST(ServerRateLimiter, client_map_is_bounded) {
  RateLimiter r(1, 1, 3);
  const auto t0 = RateLimiter::Clock::now();
  int retry = 0;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(r.allow("c" + std::to_string(i), t0, retry));
  EXPECT_FALSE(r.allow("new", t0, retry)) << "all tracked clients are active";
  EXPECT_TRUE(r.allow("new", t0 + 2s, retry)) << "refilled buckets are forgotten";
  EXPECT_LE(r.tracked(), 3u);
}

TEST(ServerAuth, keys_bearer_and_identity) {
  ApiKeys keys({"alpha", "beta"});
  EXPECT_TRUE(keys.required());
  EXPECT_TRUE(keys.accepts("alpha"));
  EXPECT_TRUE(keys.accepts("beta"));
  EXPECT_FALSE(keys.accepts("alph"));
  EXPECT_FALSE(keys.accepts(""));
  EXPECT_FALSE(ApiKeys({}).required());
  EXPECT_EQ(presented_key("Bearer alpha", ""), "alpha");
  EXPECT_EQ(presented_key("bearer  alpha ", ""), "alpha");
  EXPECT_EQ(presented_key("Basic xyz", "beta"), "beta");
  EXPECT_EQ(key_identity("alpha").size(), 16u);
  EXPECT_NE(key_identity("alpha"), key_identity("beta"));
  EXPECT_EQ(split_keys(" a, b\tc,,"), (std::vector<std::string>{"a", "b", "c"}));
}

TEST(ServerRequests, adhoc_decoding_distinguishes_400_and_422) {
  AdhocLimits limits;
  auto ok = decode_adhoc(R"J({"runtime":"python","code":"print(1)","args":["x"],"input":{"a":1},"memoryMb":64})J", limits);
  ASSERT_TRUE(std::holds_alternative<AdhocJob>(ok));
  const auto& req = std::get<AdhocJob>(ok).request;
  EXPECT_EQ(req.runtime.name, "python");
  EXPECT_EQ(req.files.at(0).name, "main.py");
  EXPECT_EQ(req.input_json, std::optional<std::string>(R"J({"a":1})J"));
  EXPECT_EQ(req.memory_mb, 64u);
  EXPECT_EQ(req.timeout_ms, limits.default_timeout_ms);
  auto ts = decode_adhoc(R"J({"runtime":"typescript","code":"1"})J", limits);
  ASSERT_TRUE(std::holds_alternative<AdhocJob>(ts));
  EXPECT_EQ(std::get<AdhocJob>(ts).request.files[0].name, "main.ts");

  auto status = [&](const std::string& body) {
    auto d = decode_adhoc(body, limits);
    return std::holds_alternative<HttpError>(d) ? std::get<HttpError>(d).status : 200;
  };
  EXPECT_EQ(status("{"), 400);
  EXPECT_EQ(status("[]"), 400);
  EXPECT_EQ(status(R"J({"runtime":"python","code":1})J"), 400);
  EXPECT_EQ(status(R"J({"runtime":"python","code":"x","args":[1]})J"), 400);
  EXPECT_EQ(status(R"J({"runtime":"python","code":"x","memoryMb":"64"})J"), 400);
  EXPECT_EQ(status(R"J({"runtime":"python"})J"), 422);
  EXPECT_EQ(status(R"J({"runtime":"cobol","code":"x"})J"), 422);
  EXPECT_EQ(status(R"J({"runtime":"python","code":"x","files":[]})J"), 422);
  EXPECT_EQ(status(R"J({"runtime":"python","code":"x","timeoutMs":1})J"), 422);
  EXPECT_EQ(status(R"J({"runtime":"python","code":"x","memoryMb":999999})J"), 422);
}

TEST(ServerRequests, service_execute_body) {
  auto empty = decode_service_execute("");
  ASSERT_TRUE(std::holds_alternative<ServiceExecute>(empty));
  EXPECT_FALSE(std::get<ServiceExecute>(empty).input_json.has_value());
  auto full = decode_service_execute(R"J({"input":[1,2],"skipPreflight":true})J");
  ASSERT_TRUE(std::holds_alternative<ServiceExecute>(full));
  EXPECT_EQ(std::get<ServiceExecute>(full).input_json, std::optional<std::string>("[1,2]"));
  EXPECT_TRUE(std::get<ServiceExecute>(full).skip_preflight);
}

TEST(ServerPiston, languages_from_installed_runtimes_and_version_matching) {
  runtime::Installed py{"python", "3.11.2", "/usr/bin/python3", "/usr/bin/python3", {}, {}, 12, 0, {}};
  runtime::Installed node{"node", "20.1.0", "/usr/bin/node", "/usr/bin/node", {}, {}, 30, 0, {}};
  auto list = piston_runtimes({py, node});
  auto has = [&](const std::string& lang, const std::string& rt) {
    return std::any_of(list.begin(), list.end(), [&](const PistonRuntime& p) { return p.language == lang && p.runtime == rt; });
  };
  EXPECT_TRUE(has("python", "python"));
  EXPECT_TRUE(has("javascript", "node"));
  AdhocLimits limits;
  auto ok = decode_piston(R"J({"language":"py","version":"3.11","files":[{"content":"print(1)"}],"run_memory_limit":-1})J", list, limits);
  ASSERT_TRUE(std::holds_alternative<PistonJob>(ok));
  EXPECT_EQ(std::get<PistonJob>(ok).version, "3.11.2");
  EXPECT_EQ(std::get<PistonJob>(ok).request.files[0].name, "main.py");
  auto js = decode_piston(R"J({"language":"javascript","version":"*","files":[{"content":"1"}],"run_timeout":3000,"run_memory_limit":67108864})J", list, limits);
  ASSERT_TRUE(std::holds_alternative<PistonJob>(js));
  EXPECT_EQ(std::get<PistonJob>(js).request.runtime.name, "node");
  EXPECT_EQ(std::get<PistonJob>(js).request.timeout_ms, 3000u);
  EXPECT_EQ(std::get<PistonJob>(js).request.memory_mb, 64u);
  auto bad = decode_piston(R"J({"language":"python","version":"2","files":[{"content":"1"}]})J", list, limits);
  ASSERT_TRUE(std::holds_alternative<HttpError>(bad));
  EXPECT_EQ(std::get<HttpError>(bad).status, 400);
}

TEST(ServerStreaming, output_events_never_split_a_utf8_character) {
  OutputEvents ev;
  const std::string e_acute = "\xC3\xA9";
  std::string first = ev.on_chunk(sandbox::Stream::out, "caf" + e_acute.substr(0, 1));
  EXPECT_EQ(first, sse_event("stdout", {{"text", "caf"}}));
  std::string second = ev.on_chunk(sandbox::Stream::out, e_acute.substr(1) + "!");
  EXPECT_EQ(second, sse_event("stdout", {{"text", e_acute + "!"}}));
  EXPECT_EQ(ev.on_chunk(sandbox::Stream::err, "\xFF\xFE"), sse_event("stderr", {{"base64", "//4="}}));
  EXPECT_EQ(ev.on_chunk(sandbox::Stream::out, "\xE2\x82"), "");
  EXPECT_EQ(ev.flush(), sse_event("stdout", {{"base64", "4oI="}}));
}

TEST(ServerMetrics, exposition_has_families_and_escaped_labels) {
  Metrics m;
  m.record_execution("py\"thon", "ok", 0.02, 5 << 20);
  m.record_rejection("queue_full");
  m.record_response(429);
  const std::string text = m.render(Gauges{1, 2, 0, 4, false, 1.5});
  EXPECT_NE(text.find("ignite_executions_total{runtime=\"py\\\"thon\",status=\"ok\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("ignite_execution_duration_seconds_bucket{runtime=\"py\\\"thon\",le=\"0.025\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("ignite_execution_duration_seconds_bucket{runtime=\"py\\\"thon\",le=\"0.01\"} 0"), std::string::npos) << text;
  EXPECT_NE(text.find("ignite_rejected_total{reason=\"queue_full\"} 1"), std::string::npos);
  EXPECT_NE(text.find("ignite_executions_in_flight 1"), std::string::npos);
  EXPECT_NE(text.find("ignite_queue_depth 2"), std::string::npos);
  EXPECT_EQ(escape_label("a\\b\nc"), "a\\\\b\\nc");
}

}  // namespace
}  // namespace ignite::server
