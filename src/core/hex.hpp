// Bytes as lowercase hex: digests, ids, nonces.
#pragma once
#include <cstdint>
#include <span>
#include <string>

namespace ignite {

std::string hex_bytes(std::span<const std::uint8_t> bytes);

}  // namespace ignite
