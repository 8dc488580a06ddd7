// JSON from outside is decoded with bounded nesting (issue 9, finding 7).
#include <gtest/gtest.h>

#include <string>

#include "core/json_limits.hpp"

namespace ignite::api {
namespace {

std::string nested(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

TEST(JsonLimits, documents_within_the_depth_parse_as_usual) {
  auto doc = parse_json_bounded(R"({"a":[1,{"b":null}],"c":"x"})");
  ASSERT_TRUE(doc) << doc.error().message;
  EXPECT_EQ((*doc)["a"][1]["b"], nullptr);
  auto deepest_allowed = parse_json_bounded(nested(kMaxJsonDepth));
  ASSERT_TRUE(deepest_allowed) << deepest_allowed.error().message;
  EXPECT_EQ(deepest_allowed->dump(), nested(kMaxJsonDepth));
  EXPECT_TRUE(parse_json_bounded("42"));
}

TEST(JsonLimits, deeply_nested_input_is_rejected_not_a_crash) {
  // 100,000 levels (200 KB) crashed dump() on the stack before the bound.
  std::string objects;
  for (int i = 0; i < 100000; ++i) objects += R"({"k":)";
  objects += "1" + std::string(100000, '}');
  for (const std::string& text : {nested(kMaxJsonDepth + 1), nested(100000), objects, std::string(100000, '[')}) {
    auto doc = parse_json_bounded(text);
    ASSERT_FALSE(doc);
    EXPECT_EQ(doc.error().code, ErrorCode::invalid_argument);
    EXPECT_EQ(doc.error().message, "JSON nested deeper than 128 levels");
  }
  EXPECT_TRUE(parse_json_bounded(nested(3), 3));
  EXPECT_FALSE(parse_json_bounded(nested(4), 3));
}

TEST(JsonLimits, syntax_errors_say_where_without_nlohmanns_exception_id) {
  auto doc = parse_json_bounded("{not json");
  ASSERT_FALSE(doc);
  EXPECT_EQ(doc.error().message.rfind("not valid JSON: parse error at line 1, column 3: syntax error", 0), 0u)
      << doc.error().message;
  EXPECT_FALSE(parse_json_bounded(""));
  EXPECT_FALSE(parse_json_bounded("[1] [2]"));
}

}  // namespace
}  // namespace ignite::api
