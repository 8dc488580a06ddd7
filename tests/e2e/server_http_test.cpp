// The HTTP transport under hostile clients (issue 9, findings 8, 15, 19, 20): strict framing,
// bodies bounded however they are framed, pipelining, and connections that trickle.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <memory>
#include <thread>

#include "server_helpers.hpp"

namespace ignite::testing {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using Json = nlohmann::json;

// Health probes come from an address of their own, so that a test's hostile client (another
// address) cannot use up the per-address connection cap the probe would need.
constexpr const char* kProbe = "127.0.0.2";
constexpr const char* kHostile = "127.0.0.3";

// Raises this process's descriptor limit for tests that open hundreds of connections.
void allow_descriptors(rlim_t n) {
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur >= n) return;
  lim.rlim_cur = std::min(n, lim.rlim_max);
  ::setrlimit(RLIMIT_NOFILE, &lim);
}

TEST(ServerHttp, pipelined_requests_are_all_answered_in_order) {
  ServerProcess s({{}, {}});
  ASSERT_TRUE(s.started());
  RawConnection c(s.port());
  // Three requests in one write, a body in the middle one; each names itself in X-Request-Id.
  const std::string bad_json = "{not json";
  ASSERT_TRUE(c.send(format_request("GET", "/health", "", {{"X-Request-Id", "first"}}, true) +
                     format_request("POST", "/v1/execute", bad_json, {{"X-Request-Id", "second"}}, true) +
                     format_request("GET", "/openapi.json", "", {{"X-Request-Id", "third"}}, false)));
  const auto start = Clock::now();
  ASSERT_TRUE(c.read_to_eof(5s)) << "the connection hung after the first answer";
  EXPECT_LT(Clock::now() - start, 2s);
  auto responses = parse_responses(c.received());
  ASSERT_EQ(responses.size(), 3u) << c.received();
  EXPECT_EQ(responses[0].status, 200);
  EXPECT_EQ(responses[0].header("x-request-id"), "first");
  EXPECT_EQ(responses[1].status, 400);
  EXPECT_EQ(responses[1].header("x-request-id"), "second");
  EXPECT_EQ(responses[2].status, 200);
  EXPECT_EQ(responses[2].header("x-request-id"), "third");
  EXPECT_TRUE(responses[2].json().contains("openapi"));

  // A chunked body between two pipelined requests is framed exactly.
  RawConnection d(s.port());
  ASSERT_TRUE(d.send("POST /v1/execute HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-Id: chunked\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\n\r\n" +
                     format_request("GET", "/health", "", {{"X-Request-Id", "after"}}, false)));
  ASSERT_TRUE(d.read_to_eof(5s));
  responses = parse_responses(d.received());
  ASSERT_EQ(responses.size(), 2u) << d.received();
  EXPECT_EQ(responses[0].status, 422) << responses[0].body;  // {"a":1} is JSON, not a request
  EXPECT_EQ(responses[1].header("x-request-id"), "after");
}

TEST(ServerHttp, conflicting_transfer_encoding_and_content_length_is_rejected) {
  ServerProcess s({{}, {}});
  ASSERT_TRUE(s.started());
  // Framed by Content-Length the body is "0\r\n\r\n" (JSON 0); framed as chunked it is empty.
  // Either guess is wrong: the head is refused with 400 and the connection closed, so bytes
  // that follow (a smuggled request) are never read as a request.
  for (const std::string fields : {"Transfer-Encoding: gzip, chunked\r\nContent-Length: 5\r\n",
                                   "Transfer-Encoding: identity, chunked\r\nContent-Length: 5\r\n",
                                   "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n",
                                   "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
                                   "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n",
                                   "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
                                   "Transfer-Encoding: gzip, chunked\r\n",
                                   "Transfer-Encoding: chunked, gzip\r\n",
                                   "Transfer-Encoding: gzip\r\n",
                                   "Content-Length: 5\r\nContent-Length: 7\r\n"}) {
    RawConnection c(s.port());
    ASSERT_TRUE(c.send("POST /v1/execute HTTP/1.1\r\nHost: 127.0.0.1\r\n" + fields + "\r\n0\r\n\r\n"));
    ASSERT_TRUE(c.read_until("\r\n\r\n", 5s)) << fields;
    c.send("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");  // may fail: the server closed
    EXPECT_TRUE(c.read_to_eof(3s)) << fields << "the connection stayed open";
    auto responses = parse_responses(c.received());
    ASSERT_EQ(responses.size(), 1u) << fields << c.received();
    EXPECT_EQ(responses[0].status, 400) << fields << responses[0].body;
    const std::string message = responses[0].json()["error"]["message"];
    EXPECT_TRUE(message.find("Transfer-Encoding") != std::string::npos ||
                message.find("Content-Length") != std::string::npos)
        << fields << message;
    EXPECT_EQ(c.received().find("ignite_"), std::string::npos) << fields << "a smuggled request was served";
  }
  EXPECT_EQ(s.get("/health").status, 200);
}

TEST(ServerHttp, chunked_bodies_obey_the_body_limit) {
  ServerProcess s({{}, {}});  // the default limit: 1 MiB
  ASSERT_TRUE(s.started());
  const long rss_before = s.rss_kib();
  auto c = std::make_shared<RawConnection>(s.port());
  ASSERT_TRUE(c->send("POST /v1/execute HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n"));
  // 300 MiB in 64 KiB chunks, as fast as the server takes them, from another thread.
  std::atomic<bool> stop{false};
  std::atomic<long> sent{0};
  std::thread sender([c, &stop, &sent] {
    const std::string chunk = "10000\r\n" + std::string(0x10000, ' ') + "\r\n";
    for (int i = 0; i < 4800 && !stop; ++i) {
      if (!c->send(chunk)) return;
      sent += 0x10000;
    }
    c->send("0\r\n\r\n");
  });
  // The sender alone writes, this thread alone reads (and watches the server's memory).
  long max_rss = 0;
  const auto start = Clock::now();
  while (Clock::now() < start + 20s && !c->read_until("\r\n\r\n", 100ms)) max_rss = std::max(max_rss, s.rss_kib());
  const auto answered = Clock::now() - start;
  for (int i = 0; i < 10; ++i) {  // and a little while after
    max_rss = std::max(max_rss, s.rss_kib());
    std::this_thread::sleep_for(50ms);
  }
  stop = true;
  sender.join();
  auto r = parse_response(c->received());
  EXPECT_EQ(r.status, 413) << c->received().substr(0, 300);
  EXPECT_LT(answered, 5s) << "the 413 came only after " << sent.load() << " bytes";
  EXPECT_LT(sent.load(), 200L << 20) << "the server read far past the limit";
  EXPECT_LT(max_rss - rss_before, 100 * 1024) << "RSS grew by " << (max_rss - rss_before) << " KiB";
  EXPECT_LT(max_rss, 200 * 1024);
  EXPECT_EQ(s.get("/health").status, 200);
  // Within the limit, chunked bodies work.
  RawConnection ok(s.port());
  const std::string small = R"({"runtime":"cobol","code":""})";
  char size[16];
  std::snprintf(size, sizeof size, "%zx", small.size());
  ASSERT_TRUE(ok.send("POST /v1/execute HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n" +
                      std::string(size) + "\r\n" + small + "\r\n0\r\n\r\n"));
  ASSERT_TRUE(ok.read_to_eof(5s));
  EXPECT_EQ(parse_response(ok.received()).status, 422) << ok.received();
}

TEST(ServerHttp, slow_clients_cannot_starve_health) {
  allow_descriptors(4096);
  ServerProcess s({{"--max-concurrent", "2", "--max-queue", "8"}, {}});
  ASSERT_TRUE(s.started());
  ASSERT_EQ(http_request_from(kProbe, s.port(), "GET", "/health").status, 200);  // serving
  const int threads_idle = s.thread_count();
  // 600 connections from one address, unauthenticated, each trickling an endless request head
  // (one more header byte per round).
  std::vector<std::unique_ptr<RawConnection>> slow;
  for (int i = 0; i < 600; ++i) {
    slow.push_back(std::make_unique<RawConnection>(s.port(), kHostile));
    ASSERT_TRUE(slow.back()->connected()) << i;
    slow.back()->send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n");
  }
  const std::string trickle = "X-Slow: y\r\n";
  std::vector<double> probe_ms;
  int failures = 0;
  const auto until = Clock::now() + 3s;
  for (std::size_t byte = 0; Clock::now() < until; ++byte) {
    for (auto& c : slow) c->send(std::string(1, trickle[byte % trickle.size()]));
    const auto t0 = Clock::now();
    auto h = http_request_from(kProbe, s.port(), "GET", "/health", "", {}, 5s);
    probe_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    if (h.status != 200) ++failures;
    std::this_thread::sleep_for(100ms);
  }
  const int threads_loaded = s.thread_count();
  // The server refused what was over the per-address cap (429 or a plain close), and holds
  // the rest until their head deadline.
  int refused = 0, told = 0;
  for (auto& c : slow) {
    if (c->read_to_eof(10ms)) ++refused;
    if (c->received().rfind("HTTP/1.1 429", 0) == 0) ++told;
  }
  EXPECT_EQ(refused, 600 - 32) << "the per-address cap (32) did not hold";
  EXPECT_GT(told, 0) << "no refused connection was told why";
  EXPECT_EQ(failures, 0);
  EXPECT_LT(*std::max_element(probe_ms.begin(), probe_ms.end()), 100.0) << "/health was slow";
  // No thread per connection: the count does not move, and stays small.
  EXPECT_EQ(threads_loaded, threads_idle);
  EXPECT_LT(threads_loaded, 64);
}

TEST(ServerHttp, a_request_head_must_arrive_within_the_header_deadline) {
  ServerProcess s({{"--header-timeout", "2"}, {}});
  ASSERT_TRUE(s.started());
  RawConnection c(s.port());
  const std::string head = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: " + std::string(200, 'x') + "\r\n\r\n";
  // A byte every 100 ms: every single read is quick, the head as a whole is not.
  const auto start = Clock::now();
  bool cut = false;
  for (std::size_t i = 0; i < head.size() && !cut; ++i) {
    if (!c.send(std::string(1, head[i]))) break;
    cut = c.read_to_eof(100ms);
  }
  const auto held = Clock::now() - start;
  EXPECT_TRUE(cut || !c.send("x")) << "the trickle was never cut off";
  EXPECT_GE(held, 1500ms);
  EXPECT_LT(held, 4s) << "the head took " << std::chrono::duration<double>(held).count() << " s";
  EXPECT_EQ(c.received().find("HTTP/1.1 200"), std::string::npos);
}

TEST(ServerHttp, idle_keep_alive_connections_are_bounded) {
  ServerProcess s({{"--max-idle-connections", "4", "--keep-alive-timeout", "2"}, {}});
  ASSERT_TRUE(s.started());
  std::vector<std::unique_ptr<RawConnection>> idle;
  for (int i = 0; i < 10; ++i) {
    idle.push_back(std::make_unique<RawConnection>(s.port()));
    ASSERT_TRUE(idle.back()->send(format_request("GET", "/health", "", {}, /*keep_alive=*/true)));
    ASSERT_TRUE(idle.back()->read_until("\"status\":\"ok\"", 5s));
  }
  std::this_thread::sleep_for(300ms);
  int open = 0;
  for (auto& c : idle) open += c->read_to_eof(10ms) ? 0 : 1;
  EXPECT_LE(open, 4) << "more idle connections than --max-idle-connections";
  EXPECT_GE(open, 1);
  // ... and the ones kept are closed after the keep-alive timeout.
  std::this_thread::sleep_for(2500ms);
  for (auto& c : idle) EXPECT_TRUE(c->read_to_eof(10ms));
}

}  // namespace
}  // namespace ignite::testing
