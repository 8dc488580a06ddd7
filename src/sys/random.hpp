// Random bytes from the kernel's CSPRNG (getrandom), for ids, nonces and guest seeds.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace ignite::sys {

// Fills `out`. getrandom cannot fail for a valid buffer once the kernel's CRNG is seeded (it
// waits for that at boot); if it ever does, the process stops rather than use weak bytes.
void random_bytes(std::span<std::uint8_t> out);

// `bytes` random bytes as lowercase hex (2 * bytes characters).
std::string random_hex(std::size_t bytes);

}  // namespace ignite::sys
