#include "core/base64.hpp"

#include <cstdint>

namespace ignite {

std::string base64_encode(std::string_view data) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  auto byte = [&](std::size_t k) -> std::uint32_t {
    return k < data.size() ? static_cast<unsigned char>(data[k]) : 0U;
  };
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  for (std::size_t i = 0; i < data.size(); i += 3) {
    const std::uint32_t v = byte(i) << 16U | byte(i + 1) << 8U | byte(i + 2);
    const std::size_t present = data.size() - i;  // 1, 2, or 3+ input bytes in this group
    out += kAlphabet[(v >> 18U) & 0x3FU];
    out += kAlphabet[(v >> 12U) & 0x3FU];
    out += present > 1 ? kAlphabet[(v >> 6U) & 0x3FU] : '=';
    out += present > 2 ? kAlphabet[v & 0x3FU] : '=';
  }
  return out;
}

}  // namespace ignite
