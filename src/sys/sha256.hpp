// Sha256: incremental SHA-256 (OpenSSL), for lockfiles and content-addressed caches.
#pragma once
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.hpp"

namespace ignite::sys {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(std::string_view data);
  Status update_file(const std::filesystem::path& path);  // streamed; fails if unreadable
  std::string hex();  // lowercase hex digest; ends the computation

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

// "sha256:<hex>" of a file's contents.
Result<std::string> sha256_file(const std::filesystem::path& path);

}  // namespace ignite::sys
