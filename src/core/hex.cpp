#include "core/hex.hpp"

namespace ignite {

std::string hex_bytes(std::span<const std::uint8_t> bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * bytes.size());
  for (const std::uint8_t b : bytes) {
    out += kHex[b >> 4U];
    out += kHex[b & 0xFU];
  }
  return out;
}

}  // namespace ignite
