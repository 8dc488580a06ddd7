#include "server/auth.hpp"

#include <cstdio>

#include "sys/sha256.hpp"

namespace ignite::server {
namespace {

sys::Sha256::Digest sha256(std::string_view text) {
  sys::Sha256 h;
  h.update(text);
  return h.digest();
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

ApiKeys::ApiKeys(const std::vector<std::string>& keys) {
  for (const auto& k : keys) {
    if (!k.empty()) digests_.push_back(sha256(k));
  }
}

bool ApiKeys::accepts(std::string_view presented) const {
  if (presented.empty()) return false;
  const auto digest = sha256(presented);
  // Security: every key is compared, in constant time, and the result accumulated without
  // branching, so timing reveals neither which key matched nor how much of a guess was right.
  int matched = 0;
  for (const auto& d : digests_) matched |= static_cast<int>(sys::equal_constant_time(d.data(), digest.data(), d.size()));
  return matched != 0;
}

std::string presented_key(std::string_view authorization, std::string_view x_api_key) {
  authorization = trim(authorization);
  constexpr std::string_view kBearer = "Bearer ";
  if (authorization.size() > kBearer.size()) {
    bool is_bearer = true;
    for (std::size_t i = 0; i < kBearer.size(); ++i) {
      const char c = authorization[i];
      const char want = kBearer[i];
      if ((c | 0x20) != (want | 0x20)) is_bearer = false;  // the scheme is case-insensitive
    }
    if (is_bearer) return std::string(trim(authorization.substr(kBearer.size())));
  }
  return std::string(trim(x_api_key));
}

std::string key_identity(std::string_view key) {
  const auto d = sha256(key);
  std::string out = "key:";
  char hex[3];
  for (std::size_t i = 0; i < 6; ++i) {
    std::snprintf(hex, sizeof hex, "%02x", static_cast<unsigned>(d[i]));
    out += hex;
  }
  return out;
}

std::vector<std::string> split_keys(std::string_view text) {
  std::vector<std::string> keys;
  std::string current;
  for (char c : text) {
    if (c == ',' || c == ' ' || c == '\t' || c == '\n') {
      if (!current.empty()) keys.push_back(std::move(current));
      current.clear();
    } else {
      current += c;
    }
  }
  if (!current.empty()) keys.push_back(std::move(current));
  return keys;
}

}  // namespace ignite::server
