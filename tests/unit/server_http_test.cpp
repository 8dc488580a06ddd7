// The HTTP server's pure parts around the transport: routing, RFC 9112 framing, the job table's
// owners and bounds, event streams that never block.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <latch>
#include <thread>

#include "server/http_framing.hpp"
#include "server/http_types.hpp"
#include "runner/jobs.hpp"
#include "server/router.hpp"
#include "server/streaming.hpp"

namespace ignite::server {
using runner::JobBounds;
using runner::JobQueue;
using runner::random_id;

namespace {

using namespace std::chrono_literals;

TEST(ServerRouter, literal_and_captured_segments_method_and_escapes) {
  Router r;
  int hit = 0;
  r.add("GET", "/services", Dispatch::blocking, [&](const Request&, Response&) { hit = 1; });
  r.add("GET", "/services/:name", Dispatch::blocking, [&](const Request&, Response&) { hit = 2; });
  r.add("POST", "/services/:name/execute", Dispatch::blocking, [&](const Request&, Response&) { hit = 3; });
  r.add("GET", "/health", Dispatch::quick, [&](const Request&, Response&) { hit = 4; });

  auto m = r.match("GET", "/services/data-processor");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.params, std::vector<std::string>{"data-processor"});
  EXPECT_EQ(r.match("GET", "/health").route->dispatch, Dispatch::quick);
  // %2F inside a capture stays inside it: never a separator, never a traversal.
  m = r.match("POST", "/services/..%2F..%2Fetc/execute");
  ASSERT_NE(m.route, nullptr);
  EXPECT_EQ(m.params, std::vector<std::string>{"../../etc"});
  EXPECT_EQ(r.match("GET", "/services/").status, 404) << "a capture is never empty";
  EXPECT_EQ(r.match("GET", "/nope").status, 404);
  EXPECT_EQ(r.match("GET", "*").status, 404);
  EXPECT_EQ(r.match("GET", "/services/%zz").status, 400);
  EXPECT_EQ(r.match("GET", "/services/%4").status, 400);
  auto wrong = r.match("DELETE", "/services/x");
  EXPECT_EQ(wrong.status, 405);
  EXPECT_EQ(wrong.allow, "GET");
}

TEST(ServerRequest, headers_are_case_insensitive_and_query_params_decoded) {
  Request req;
  req.headers = {{"x-request-id", "abc"}, {"content-type", "application/json"}};
  req.query = "a=1&stream=1&name=caf%C3%A9+x&flag";
  EXPECT_EQ(req.header("X-Request-Id"), "abc");
  EXPECT_TRUE(req.has_header("Content-Type"));
  EXPECT_EQ(req.header("authorization"), "");
  EXPECT_EQ(req.query_param("stream"), "1");
  EXPECT_EQ(req.query_param("name"), "caf\xC3\xA9 x");
  EXPECT_EQ(req.query_param("flag"), "");
  EXPECT_EQ(req.query_param("missing"), "");
  EXPECT_EQ(percent_decode("%2e%2E"), "..");
  EXPECT_FALSE(percent_decode("%g0"));
}

FramingVerdict framing(Fields f) { return request_framing(f); }

TEST(ServerFraming, plain_framings_are_accepted) {
  EXPECT_EQ(framing({}).framing.kind, BodyFraming::none);
  auto cl = framing({{"content-length", "42"}});
  EXPECT_FALSE(cl.error);
  EXPECT_EQ(cl.framing.kind, BodyFraming::content_length);
  EXPECT_EQ(cl.framing.length, 42u);
  EXPECT_FALSE(framing({{"content-length", "5"}, {"content-length", "5"}}).error) << "identical duplicates";
  EXPECT_FALSE(framing({{"content-length", "5, 5"}}).error);
  EXPECT_EQ(framing({{"transfer-encoding", "chunked"}}).framing.kind, BodyFraming::chunked);
  EXPECT_EQ(framing({{"transfer-encoding", "Chunked"}}).framing.kind, BodyFraming::chunked);
}

TEST(ServerFraming, conflicting_transfer_encoding_and_content_length_is_rejected) {
  // RFC 9112 §6.1/6.3: each of these is refused (and the connection closed), never guessed.
  for (const Fields& f : std::vector<Fields>{
           {{"transfer-encoding", "gzip, chunked"}, {"content-length", "10"}},
           {{"transfer-encoding", "identity, chunked"}, {"content-length", "10"}},
           {{"content-length", "10"}, {"transfer-encoding", "chunked"}},
           {{"transfer-encoding", "chunked"}, {"transfer-encoding", "chunked"}},
           {{"transfer-encoding", "gzip"}, {"transfer-encoding", "chunked"}},
           {{"transfer-encoding", "gzip, chunked"}},
           {{"transfer-encoding", "chunked, gzip"}},
           {{"transfer-encoding", "gzip"}},
           {{"transfer-encoding", ""}},
           {{"content-length", "5"}, {"content-length", "6"}},
           {{"content-length", "5, 6"}},
           {{"content-length", "+5"}},
           {{"content-length", "-1"}},
           {{"content-length", "0x10"}},
           {{"content-length", ""}},
           {{"content-length", "99999999999999999999"}},
       }) {
    const auto v = framing(f);
    EXPECT_TRUE(v.error.has_value()) << f.front().first << ": " << f.front().second;
  }
  EXPECT_TRUE(request_framing({{"transfer-encoding", "chunked"}}, 10).error) << "HTTP/1.0 has no codings";
  EXPECT_FALSE(request_framing({{"content-length", "3"}}, 10).error);
}

engine::AdhocRequest some_request() {
  engine::AdhocRequest r;
  r.files.push_back({"main.py", "print(1)"});
  return r;
}

// Waits until the job is finished (its body says so).
std::shared_ptr<const std::string> finished(JobQueue& q, const std::string& id, const std::string& owner) {
  for (int i = 0; i < 500; ++i) {
    auto body = q.get(id, owner);
    if (body && body->find("\"status\":\"queued\"") == std::string::npos &&
        body->find("\"status\":\"running\"") == std::string::npos)
      return body;
    std::this_thread::sleep_for(5ms);
  }
  return nullptr;
}

TEST(ServerJobTable, a_job_is_readable_only_by_the_key_that_created_it) {
  JobQueue q([](const engine::AdhocRequest&, std::stop_token, bool&) { return nlohmann::json{{"stdout", "42\n"}}; },
             1, JobBounds{});
  auto a = q.submit(some_request(), "key:aaaa", "");
  ASSERT_TRUE(a.accepted);
  auto body = finished(q, a.id, "key:aaaa");
  ASSERT_NE(body, nullptr);
  EXPECT_NE(body->find("\"stdout\":\"42\\n\""), std::string::npos) << *body;
  EXPECT_EQ(q.get(a.id, "key:bbbb"), nullptr) << "another key sees nothing, as for an unknown id";
  EXPECT_EQ(q.get(a.id, ""), nullptr);
  EXPECT_EQ(q.get("0123456789abcdef", "key:aaaa"), nullptr);
}

TEST(ServerJobTable, a_kept_job_result_is_shared_not_copied_per_reader) {
  JobQueue q([](const engine::AdhocRequest&, std::stop_token, bool&) {
    return nlohmann::json{{"stdout", std::string(1 << 20, 'x')}};
  }, 1, JobBounds{});
  auto a = q.submit(some_request(), "", "");
  auto first = finished(q, a.id, "");
  ASSERT_NE(first, nullptr);
  for (int i = 0; i < 60; ++i) EXPECT_EQ(q.get(a.id, "").get(), first.get()) << "one buffer for every reader";
  EXPECT_EQ(q.kept_bytes(), first->size());
}

TEST(ServerJobTable, results_are_bounded_per_job_and_in_total_oldest_forgotten_first) {
  JobBounds bounds;
  bounds.max_result_bytes = 64 << 10;
  bounds.max_kept_bytes = 100 << 10;
  JobQueue q([](const engine::AdhocRequest& r, std::stop_token, bool&) {
    return nlohmann::json{{"stdout", std::string(r.args.empty() ? 40 << 10 : 200 << 10, 'x')}};
  }, 1, bounds);
  auto big_request = some_request();
  big_request.args = {"big"};
  auto big = q.submit(big_request, "", "");
  auto body = finished(q, big.id, "");
  ASSERT_NE(body, nullptr);
  EXPECT_NE(body->find("\"status\":\"failed\""), std::string::npos) << *body;
  EXPECT_NE(body->find("result_too_large"), std::string::npos) << *body;
  EXPECT_LT(body->size(), 1024u);

  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) {
    ids.push_back(q.submit(some_request(), "", "").id);
    ASSERT_NE(finished(q, ids.back(), ""), nullptr);
  }
  EXPECT_LE(q.kept_bytes(), bounds.max_kept_bytes);
  EXPECT_EQ(q.get(ids.front(), ""), nullptr) << "the oldest is forgotten first";
  EXPECT_NE(q.get(ids.back(), ""), nullptr);
}

TEST(ServerStreaming, take_never_blocks_and_abandon_cancels_the_run) {
  std::vector<std::function<void()>> posted;
  std::atomic<bool> cancelled{false};
  std::latch output_sent(1);
  std::atomic<int> abandoned{0};
  auto run = StreamedRun::launch(
      [&](const sandbox::OutputSink& sink, std::stop_token stop) {
        sink(sandbox::Stream::out, "hello\n");
        output_sent.count_down();
        while (!stop.stop_requested()) std::this_thread::sleep_for(1ms);
        cancelled = true;
        return std::string("event: result\ndata: {}\n\n");
      },
      [&](std::function<void()> task) { posted.push_back(std::move(task)); }, {}, [&] { ++abandoned; });
  ASSERT_EQ(posted.size(), 1u);
  std::atomic<int> wakes{0};
  run->start([&] { ++wakes; });
  EXPECT_EQ(run->take(), std::optional<std::string>("")) << "nothing yet, and no waiting";
  std::thread worker(posted.front());
  output_sent.wait();
  EXPECT_GE(wakes.load(), 1);
  EXPECT_EQ(run->take(), sse_event("stdout", {{"text", "hello\n"}}));
  run->abandon();
  worker.join();
  EXPECT_TRUE(cancelled);
  EXPECT_EQ(abandoned.load(), 1);
  EXPECT_EQ(run->take(), std::optional<std::string>("event: result\ndata: {}\n\n"));
  EXPECT_EQ(run->take(), std::nullopt);
}

}  // namespace
}  // namespace ignite::server
