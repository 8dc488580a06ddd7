// retry_while_unavailable: what a worker does while NATS, or a JetStream cluster, is not ready;
// nats_error: which NATS failures are worth waiting out.
#include <gtest/gtest.h>

#include <chrono>

#include "queue/nats_api.hpp"
#include "queue/nats_handle.hpp"
#include "queue/nats_setup.hpp"

namespace ignite::queue {
namespace {

using std::chrono::steady_clock;

TEST(RetryWhileUnavailable, a_step_that_times_out_is_tried_again_until_it_succeeds) {
  int calls = 0;
  const auto start = steady_clock::now();
  const Result<int> r = retry_while_unavailable([] { return false; }, [&]() -> Result<int> {
    if (++calls < 3) return fail(ErrorCode::unavailable, "create stream IGNITE_JOBS: Timeout");
    return 7;
  });
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(*r, 7);
  EXPECT_EQ(calls, 3);
  // Paced, not spun: 100 ms, then 200 ms.
  EXPECT_GE(steady_clock::now() - start, std::chrono::milliseconds(300));
}

TEST(RetryWhileUnavailable, a_lasting_error_is_returned_at_once) {
  int calls = 0;
  const Result<int> r = retry_while_unavailable([] { return false; }, [&]() -> Result<int> {
    ++calls;
    return fail(ErrorCode::internal, "create stream IGNITE_JOBS: stream name already in use");
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(r.error().code, ErrorCode::internal);
}

TEST(RetryWhileUnavailable, giving_up_returns_the_last_error) {
  int calls = 0;
  const Result<void> r = retry_while_unavailable([&] { return calls >= 2; }, [&]() -> Result<void> {
    ++calls;
    return fail(ErrorCode::unavailable, "attempt " + std::to_string(calls));
  });
  ASSERT_FALSE(r);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(r.error().message, "attempt 2");
}

TEST(NatsError, a_timeout_or_a_cluster_without_a_leader_is_waited_out) {
  ASSERT_TRUE(load_nats());
  EXPECT_EQ(nats_error("create stream", NATS_TIMEOUT).code, ErrorCode::unavailable);
  EXPECT_EQ(nats_error("create stream", NATS_ERR, JSClusterNotAvailErr).code, ErrorCode::unavailable);
  EXPECT_EQ(nats_error("create stream", NATS_ERR, JSStreamNameExistErr).code, ErrorCode::internal);
}

// cnats says "no responders" both for a cluster not answering yet and for a server without
// JetStream; only the JetStream error code tells them apart, and the second never passes.
TEST(NatsError, a_server_without_jetstream_is_a_lasting_error_that_says_how_to_fix_it) {
  ASSERT_TRUE(load_nats());
  EXPECT_EQ(nats_error("create stream", NATS_NO_RESPONDERS).code, ErrorCode::unavailable);
  const Error e = nats_error("create stream", NATS_NO_RESPONDERS, JSNotEnabledErr);
  EXPECT_EQ(e.code, ErrorCode::internal);
  EXPECT_NE(e.message.find("JetStream is not enabled"), std::string::npos) << e.message;
}

}  // namespace
}  // namespace ignite::queue
