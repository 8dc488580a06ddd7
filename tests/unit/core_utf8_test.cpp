// utf8_boundary: where output cut at a byte cap may end so that text stays text (issue 9,
// finding 18), and the strict validator it shares with the result document.
#include <gtest/gtest.h>

#include <string>

#include "core/utf8.hpp"

namespace ignite {
namespace {

std::size_t cut(std::string_view text) { return utf8_boundary(text); }

TEST(Utf8Boundary, a_character_cut_by_the_cap_is_dropped_whole) {
  const std::string euro = "\xE2\x82\xAC";       // 3 bytes
  const std::string emoji = "\xF0\x9F\x98\x80";  // 4 bytes
  const std::string e_acute = "\xC3\xA9";        // 2 bytes
  EXPECT_EQ(cut("ab" + euro.substr(0, 1)), 2u);
  EXPECT_EQ(cut("ab" + euro.substr(0, 2)), 2u);
  EXPECT_EQ(cut("ab" + emoji.substr(0, 1)), 2u);
  EXPECT_EQ(cut("ab" + emoji.substr(0, 2)), 2u);
  EXPECT_EQ(cut("ab" + emoji.substr(0, 3)), 2u);
  EXPECT_EQ(cut(euro + euro + e_acute.substr(0, 1)), 6u);
  EXPECT_EQ(cut(emoji.substr(0, 3)), 0u);  // nothing but the cut character
}

TEST(Utf8Boundary, complete_text_and_empty_text_keep_every_byte) {
  for (const std::string text :
       {"", "a", "abc\n", "\xC3\xA9", "x\xE2\x82\xAC", "\xF0\x9F\x98\x80"}) {
    EXPECT_EQ(cut(text), text.size()) << text;
  }
}

TEST(Utf8Boundary, binary_output_is_never_trimmed) {
  // Invalid before the tail: the stream is binary, trimming would not make it text.
  const std::string invalid_first = std::string("\xFF") + "ab\xE2\x82";
  const std::string invalid_inside = std::string("a\x80") + "b\xC3";
  EXPECT_EQ(cut(invalid_first), 5u);
  EXPECT_EQ(cut(invalid_inside), 4u);
  // Tails no character can start with, or that are already wrong, are kept (and base64'd).
  EXPECT_EQ(cut("ab\xFF"), 3u);
  EXPECT_EQ(cut("ab\xC0"), 3u);          // C0/C1: only overlong forms
  EXPECT_EQ(cut("ab\xF5\x80"), 4u);      // above U+10FFFF
  EXPECT_EQ(cut("ab\xE0\x80"), 4u);      // overlong 3-byte form
  EXPECT_EQ(cut("ab\xED\xA0"), 4u);      // a surrogate
  EXPECT_EQ(cut("ab\xF4\x90\x80"), 5u);  // above U+10FFFF
  EXPECT_EQ(cut("ab\x80\x80\x80"), 5u);  // continuation bytes with no lead in reach
  EXPECT_EQ(cut("ab\xC3\xA9\xA9"), 5u);  // a stray continuation byte after a whole character
}

TEST(Utf8Validity, strict_rfc_3629) {
  EXPECT_TRUE(is_valid_utf8("plain \xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF"));
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));          // overlong '/'
  EXPECT_FALSE(is_valid_utf8("\xE0\x9F\xBF"));      // overlong
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));      // surrogate
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // > U+10FFFF
  EXPECT_FALSE(is_valid_utf8("\xE2\x82"));          // cut
  EXPECT_FALSE(is_valid_utf8("\xE2\x28\xA1"));      // bad continuation
}

}  // namespace
}  // namespace ignite
