// The config-file form of serve's pools.
#include <gtest/gtest.h>

#include "config/pool_file.hpp"

namespace ignite::config {
namespace {

TEST(PoolFile, reads_ranges_numbers_maps_and_the_budget) {
  auto f = parse_pool_file("pools:\n  python: 2..16\n  node: {min: 1, max: 8}\n  bun: 3\nmemoryMb: 512\nidleSeconds: 10\n",
                           "pools.yaml");
  ASSERT_TRUE(f.has_value()) << f.error().message;
  EXPECT_EQ(f->runtimes.at("python"), (std::pair<std::uint32_t, std::uint32_t>{2, 16}));
  EXPECT_EQ(f->runtimes.at("node"), (std::pair<std::uint32_t, std::uint32_t>{1, 8}));
  EXPECT_EQ(f->runtimes.at("bun"), (std::pair<std::uint32_t, std::uint32_t>{3, 3}));
  EXPECT_EQ(f->memory_mb, 512u);
  EXPECT_EQ(f->idle_seconds, 10u);
}

TEST(PoolFile, errors_name_the_file_line_and_key) {
  struct Case {
    const char* yaml;
    const char* want;
  };
  for (const Case& c : {Case{"pools:\n  python: 9..2\n", "pools.yaml:2: pools.python: max (2) is below min (9)"},
                        Case{"pools:\n  node: {min: 1}\n", "pools.yaml:2: pools.node.max: missing required key"},
                        Case{"pools:\n  go: lots\n", "pools.yaml:2: pools.go: expected MIN..MAX"},
                        Case{"pool:\n  go: 1\n", "pools.yaml:1: pool:"},
                        Case{"memoryMb: 1\n", "pools.yaml:1: memoryMb:"}}) {
    auto f = parse_pool_file(c.yaml, "pools.yaml");
    ASSERT_FALSE(f.has_value()) << c.yaml;
    EXPECT_NE(f.error().message.find(c.want), std::string::npos) << f.error().message;
  }
}

}  // namespace
}  // namespace ignite::config
