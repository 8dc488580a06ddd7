// The backend-neutral output cap: keeps up to the cap, drops the rest, never cuts a character.
#include <gtest/gtest.h>

#include "sandbox/common/output_capture.hpp"

namespace ignite::sandbox {
namespace {

TEST(OutputCapture, keeps_up_to_the_cap_and_flags_the_rest) {
  std::string data;
  bool truncated = false;
  std::string streamed;
  OutputCapture c(Stream::out, 5, data, truncated);
  const OutputSink sink = [&](Stream s, std::string_view chunk) {
    EXPECT_EQ(s, Stream::out);
    streamed += chunk;
  };
  c.append("abc", sink);
  EXPECT_FALSE(truncated);
  c.append("defgh", sink);
  c.append("more", sink);
  EXPECT_EQ(data, "abcde");
  EXPECT_TRUE(truncated);
  EXPECT_EQ(streamed, "abcde");
}

TEST(OutputCapture, a_character_cut_by_the_cap_is_dropped) {
  std::string data;
  bool truncated = false;
  OutputCapture c(Stream::err, 4, data, truncated);
  c.append("ab\xc3\xa9\xc3\xa9", {});  // "abéé": the cap falls inside the second é
  EXPECT_EQ(data, "ab\xc3\xa9");
  std::string data2;
  bool truncated2 = false;
  OutputCapture c2(Stream::err, 3, data2, truncated2);
  c2.append("ab\xc3\xa9", {});
  EXPECT_EQ(data2, "ab");
  EXPECT_TRUE(truncated2);
}

}  // namespace
}  // namespace ignite::sandbox
