// API keys: which keys are accepted, compared in constant time, and who the caller is.
#pragma once
#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace ignite::server {

class ApiKeys {
 public:
  explicit ApiKeys(const std::vector<std::string>& keys);

  bool required() const { return !digests_.empty(); }

  // True when `presented` is one of the keys. The time taken does not depend on where a guess
  // differs from a key, nor on the keys' lengths (both sides are hashed first).
  bool accepts(std::string_view presented) const;

 private:
  std::vector<std::array<unsigned char, 32>> digests_;
};

// The key in "Authorization: Bearer <key>" or "X-API-Key: <key>"; "" when absent.
std::string presented_key(std::string_view authorization, std::string_view x_api_key);

// A stable, non-secret name for a key (for rate-limit buckets and logs): "key:" + 12 hex digits
// of its SHA-256.
std::string key_identity(std::string_view key);

// IGNITE_API_KEY may hold several keys separated by commas or whitespace.
std::vector<std::string> split_keys(std::string_view text);

}  // namespace ignite::server
