#include "core/printable.hpp"

namespace ignite {

std::string printable(std::string_view text, std::size_t max) {
  constexpr std::string_view kHex = "0123456789abcdef";
  std::string out;
  for (const char c : text) {
    if (out.size() >= max) {
      out += "...";
      break;
    }
    const auto u = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (u < 0x20 || u == 0x7f) {
      out += "\\x";
      out += kHex[static_cast<std::size_t>(u >> 4)];
      out += kHex[static_cast<std::size_t>(u & 0xfU)];
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace ignite
