#include "core/number_text.hpp"

#include <array>
#include <charconv>
#include <system_error>

namespace ignite {

std::string format_number(double value) {
  std::array<char, 32> buf{};
  const auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), value);
  if (ec != std::errc()) return "?";
  return std::string(buf.data(), end);
}

}  // namespace ignite
