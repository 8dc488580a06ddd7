#include "core/utf8.hpp"

namespace ignite {
namespace {

// The length a lead byte announces, or 0 for a byte no well-formed sequence starts with
// (continuation bytes, the overlong leads C0/C1, and F5..FF).
std::size_t announced_length(unsigned char b0) noexcept {
  if (b0 < 0x80) return 1;
  if (b0 >= 0xC2 && b0 <= 0xDF) return 2;
  if (b0 >= 0xE0 && b0 <= 0xEF) return 3;
  if (b0 >= 0xF0 && b0 <= 0xF4) return 4;
  return 0;
}

// The range RFC 3629 allows for the byte after `b0` (it excludes overlong forms, surrogates and
// code points above U+10FFFF); every later byte is a plain continuation byte (80..BF).
bool second_byte_ok(unsigned char b0, unsigned char b1) noexcept {
  if (b0 == 0xE0) return b1 >= 0xA0 && b1 <= 0xBF;
  if (b0 == 0xED) return b1 >= 0x80 && b1 <= 0x9F;
  if (b0 == 0xF0) return b1 >= 0x90 && b1 <= 0xBF;
  if (b0 == 0xF4) return b1 >= 0x80 && b1 <= 0x8F;
  return (b1 & 0xC0U) == 0x80U;
}

}  // namespace

std::size_t utf8_sequence_length(std::string_view text, std::size_t i) noexcept {
  const auto b0 = static_cast<unsigned char>(text[i]);
  const std::size_t len = announced_length(b0);
  if (len <= 1 || text.size() - i < len) return len == 1 ? 1 : 0;
  if (!second_byte_ok(b0, static_cast<unsigned char>(text[i + 1]))) return 0;
  for (std::size_t k = 2; k < len; ++k) {
    if ((static_cast<unsigned char>(text[i + k]) & 0xC0U) != 0x80U) return 0;
  }
  return len;
}

bool is_valid_utf8(std::string_view text) noexcept {
  for (std::size_t i = 0; i < text.size();) {
    const std::size_t len = utf8_sequence_length(text, i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

std::size_t utf8_boundary(std::string_view text) noexcept {
  // The last character starts at most 3 bytes before the end; find its lead byte.
  for (std::size_t tail = 1; tail <= 3 && tail <= text.size(); ++tail) {
    const std::size_t start = text.size() - tail;
    const auto lead = static_cast<unsigned char>(text[start]);
    if ((lead & 0xC0U) == 0x80U) continue;  // a continuation byte: the lead is further back
    const std::size_t len = announced_length(lead);
    // Only a prefix a well-formed character could still complete counts as "cut".
    const bool incomplete =
        len > tail &&
        (tail == 1 || second_byte_ok(lead, static_cast<unsigned char>(text[start + 1])));
    if (incomplete && is_valid_utf8(text.substr(0, start))) return start;
    return text.size();
  }
  return text.size();
}

}  // namespace ignite
