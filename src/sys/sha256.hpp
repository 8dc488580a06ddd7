// Sha256: incremental SHA-256 (FIPS 180-4), for lockfiles, content-addressed caches, pool keys
// and API-key digests.
//
// Ours rather than OpenSSL's: libcrypto linked into `ignite` cost every start 1.4 ms and 90 page
// faults (its relocated tables, and a constructor that runs CPUID, a VM exit under a
// hypervisor), measured with two hello-world binaries; SHA-256 was all Ignite used it for.
// The block function uses the CPU's SHA extensions where it has them (checked once, on first
// use), else portable code; both are tested against FIPS vectors and against each other.
#pragma once
#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace ignite::sys {

class Sha256 {
 public:
  using Digest = std::array<std::uint8_t, 32>;

  Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(std::string_view data);
  Status update_file(const std::filesystem::path& path);  // streamed; fails if unreadable
  // The digest of everything given since construction or the last digest(); the object then
  // starts over, as if new.
  Digest digest();
  std::string hex();  // digest() as lowercase hex

  // Tests only: the portable block function even where the CPU has SHA extensions.
  static void force_portable(bool on);
  static bool uses_cpu_extensions();

 private:
  void blocks(const std::uint8_t* data, std::size_t count);

  std::array<std::uint32_t, 8> state_;
  std::array<std::uint8_t, 64> buffer_{};
  std::size_t buffered_ = 0;
  std::uint64_t length_ = 0;  // bytes
};

// "sha256:<hex>" of a file's contents.
Result<std::string> sha256_file(const std::filesystem::path& path);

// Equal contents, in a time that depends only on the size (for secrets).
bool equal_constant_time(const std::uint8_t* a, const std::uint8_t* b, std::size_t size);

}  // namespace ignite::sys
