// The pools' pure parts: demand estimate, idle target, the --pool flag.
#include <gtest/gtest.h>

#include "pool/demand.hpp"
#include "pool/pools.hpp"

namespace ignite::pool {
namespace {

using namespace std::chrono_literals;

TEST(DecayingRate, a_steady_rate_settles_at_that_rate) {
  DecayingRate rate(2000ms);
  auto t = Clock::time_point{} + 1h;
  for (int i = 0; i < 400; ++i) {  // 20 per second for 20 s
    t += 50ms;
    rate.arrive(t);
  }
  EXPECT_NEAR(rate.at(t), 20.0, 1.0);
}

TEST(DecayingRate, decays_without_arrivals) {
  DecayingRate rate(1000ms);
  auto t = Clock::time_point{} + 1h;
  for (int i = 0; i < 100; ++i) rate.arrive(t += 10ms);
  const double busy = rate.at(t);
  EXPECT_LT(rate.at(t + 5s), busy / 100);
}

TEST(TargetIdle, follows_rate_times_refill_time_within_bounds) {
  EXPECT_EQ(target_idle(0, 0.05, {1, 8}, false), 1u);      // no demand: the minimum
  EXPECT_EQ(target_idle(10, 0.05, {0, 8}, false), 2u);     // 2 x 10/s x 50 ms + 1
  EXPECT_EQ(target_idle(100, 0.05, {0, 8}, false), 8u);    // capped at max
  EXPECT_EQ(target_idle(100, 0.05, {2, 16}, true), 2u);    // idle: back to the minimum
  EXPECT_EQ(target_idle(0.1, 0.05, {3, 8}, false), 3u);    // never below the minimum
}

TEST(PoolFlag, parses_ranges_single_values_and_none) {
  auto p = parse_pool_flag("python=2..16,node=4,bun=0..8");
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(p->at("python"), (Bounds{2, 16}));
  EXPECT_EQ(p->at("node"), (Bounds{4, 4}));
  EXPECT_EQ(p->at("bun"), (Bounds{0, 8}));
  EXPECT_TRUE(parse_pool_flag("none")->empty());
}

TEST(PoolFlag, rejects_what_it_cannot_mean_with_the_item_named) {
  for (const char* bad : {"python", "=1..2", "python=a..2", "python=4..2", "python=1..100000", "python=1..",
                          "python=-1..2"}) {
    auto p = parse_pool_flag(bad);
    ASSERT_FALSE(p.has_value()) << bad;
    EXPECT_NE(p.error().message.find("--pool"), std::string::npos) << p.error().message;
  }
}

}  // namespace
}  // namespace ignite::pool
