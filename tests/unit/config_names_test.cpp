// Pure string helpers of src/config: suggest, service names and runtime references.
#include <gtest/gtest.h>

#include <array>
#include <string>

#include "config/service_config.hpp"

namespace ignite::config {
namespace {

constexpr std::array<std::string_view, 9> kKeys = {"name",     "runtime",   "entry",
                                                   "memoryMb", "timeoutMs", "cpuLimit",
                                                   "network",  "env",       "dependencies"};

TEST(Suggest, FindsCloseMatches) {
  EXPECT_EQ(suggest("memroyMb", kKeys), "memoryMb");
  EXPECT_EQ(suggest("memory", kKeys), "memoryMb");
  EXPECT_EQ(suggest("timeout", kKeys), "timeoutMs");
  EXPECT_EQ(suggest("entyr", kKeys), "entry");
  EXPECT_EQ(suggest("dependancies", kKeys), "dependencies");
  EXPECT_EQ(suggest("netwrk", kKeys), "network");
  EXPECT_EQ(suggest("nam", kKeys), "name");
}

TEST(Suggest, IsCaseInsensitive) {
  EXPECT_EQ(suggest("MEMORYMB", kKeys), "memoryMb");
  EXPECT_EQ(suggest("CpuLimit", kKeys), "cpuLimit");
  EXPECT_EQ(suggest("Node", known_runtimes()), "node");
}

TEST(Suggest, ReturnsEmptyWhenNothingIsClose) {
  EXPECT_EQ(suggest("zzzzzzzz", kKeys), "");
  EXPECT_EQ(suggest("", kKeys), "");
  EXPECT_EQ(suggest("memoryMb", {}), "");
  EXPECT_EQ(suggest("ruby", known_runtimes()), "");
  // Two edits would turn "x" into "go", but that is a replacement, not a typo.
  EXPECT_EQ(suggest("x", known_runtimes()), "");
}

TEST(Suggest, ThresholdGrowsWithWordLength) {
  // Short words allow 2 edits; a 12-letter word allows 4 (12 / 3).
  constexpr std::array<std::string_view, 1> kOne = {"abcdefghijkl"};
  EXPECT_EQ(suggest("abcdefghWXYZ", kOne), "abcdefghijkl");
  EXPECT_EQ(suggest("abcdefgVWXYZ", kOne), "");
  constexpr std::array<std::string_view, 1> kShort = {"abcd"};
  EXPECT_EQ(suggest("abXY", kShort), "abcd");
  EXPECT_EQ(suggest("aXYZ", kShort), "");
}

TEST(Suggest, PrefersTheClosestAndThenTheFirst) {
  constexpr std::array<std::string_view, 3> kCands = {"abcx", "abcd", "abce"};
  EXPECT_EQ(suggest("abcd", kCands), "abcd");
  EXPECT_EQ(suggest("abcz", kCands), "abcx");
}

TEST(ServiceName, MatchesTheContractPattern) {
  for (std::string_view ok : {"a", "0", "data-processor", "a-b-c", "abc123", "9lives", "a--b"}) {
    EXPECT_TRUE(valid_service_name(ok)) << ok;
  }
  EXPECT_TRUE(valid_service_name(std::string(63, 'a')));
  for (std::string_view bad :
       {"", "-a", "a-", "-", "A", "myService", "a_b", "a.b", "a b", "é", "a/b", "../a"}) {
    EXPECT_FALSE(valid_service_name(bad)) << bad;
  }
  EXPECT_FALSE(valid_service_name(std::string(64, 'a')));
  EXPECT_FALSE(valid_service_name(std::string_view("a\0b", 3)));
}

TEST(RuntimeRef, KnownRuntimes) {
  ASSERT_EQ(known_runtimes().size(), 6u);
  std::string all;
  for (std::string_view r : known_runtimes()) all += std::string(r) + " ";
  EXPECT_EQ(all, "bun node deno quickjs python go ");
  for (std::string_view r : known_runtimes()) {
    auto ref = parse_runtime_ref(r);
    ASSERT_TRUE(ref) << r;
    EXPECT_EQ(ref->name, r);
    EXPECT_EQ(ref->version, "");
    EXPECT_EQ(ref->to_string(), r);
  }
}

TEST(RuntimeRef, ParsesVersionPins) {
  auto node = parse_runtime_ref("node@20");
  ASSERT_TRUE(node);
  EXPECT_EQ(*node, (RuntimeRef{"node", "20"}));
  EXPECT_EQ(node->to_string(), "node@20");
  auto bun = parse_runtime_ref("bun@1.3.4");
  ASSERT_TRUE(bun);
  EXPECT_EQ(*bun, (RuntimeRef{"bun", "1.3.4"}));
  auto py = parse_runtime_ref("python@3.11");
  ASSERT_TRUE(py);
  EXPECT_EQ(*py, (RuntimeRef{"python", "3.11"}));
}

TEST(RuntimeRef, RejectsUnknownNamesWithSuggestion) {
  auto nodejs = parse_runtime_ref("nodejs@20");
  ASSERT_FALSE(nodejs);
  EXPECT_EQ(nodejs.error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(nodejs.error().message, "unknown runtime 'nodejs' (did you mean 'node'?)");
  auto ruby = parse_runtime_ref("ruby");
  ASSERT_FALSE(ruby);
  EXPECT_EQ(ruby.error().message,
            "unknown runtime 'ruby' (expected one of: bun, node, deno, quickjs, python, go)");
  EXPECT_FALSE(parse_runtime_ref(""));
  EXPECT_FALSE(parse_runtime_ref("@20"));
  EXPECT_FALSE(parse_runtime_ref(" node"));
  EXPECT_FALSE(parse_runtime_ref("NODE"));
}

TEST(RuntimeRef, RejectsMalformedVersions) {
  for (std::string_view bad :
       {"node@", "node@v20", "node@20.", "node@.20", "node@1..2", "node@20@1", "node@20-rc1",
        "node@latest", "node@1 2", "node@../../etc"}) {
    auto r = parse_runtime_ref(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::invalid_argument);
    EXPECT_NE(r.error().message.find("invalid runtime version"), std::string::npos)
        << r.error().message;
  }
  EXPECT_FALSE(parse_runtime_ref("node@" + std::string(33, '1')));
  EXPECT_TRUE(parse_runtime_ref("node@" + std::string(32, '1')));
}

}  // namespace
}  // namespace ignite::config
