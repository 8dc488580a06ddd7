#include "sys/random.hpp"

#include <sys/random.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "core/hex.hpp"

namespace ignite::sys {

void random_bytes(std::span<std::uint8_t> out) {
  for (std::size_t got = 0; got < out.size();) {
    const ssize_t n = ::getrandom(out.data() + got, out.size() - got, 0);
    if (n > 0) {
      got += static_cast<std::size_t>(n);
    } else if (n < 0 && errno != EINTR) {
      std::fprintf(stderr, "ignite: getrandom: %s\n", std::strerror(errno));
      std::abort();
    }
  }
}

std::string random_hex(std::size_t bytes) {
  std::vector<std::uint8_t> raw(bytes);
  random_bytes(raw);
  return hex_bytes(raw);
}

}  // namespace ignite::sys
