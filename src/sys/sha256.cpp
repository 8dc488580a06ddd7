#include "sys/sha256.hpp"

#include <openssl/evp.h>

#include <fstream>

namespace ignite::sys {

struct Sha256::Ctx {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> md{EVP_MD_CTX_new(), EVP_MD_CTX_free};
};

// OpenSSL's digest calls only fail on allocation failure or misuse; the context is created and
// initialised here once, so later calls have nothing left to fail on.
Sha256::Sha256() : ctx_(std::make_unique<Ctx>()) {
  EVP_DigestInit_ex(ctx_->md.get(), EVP_sha256(), nullptr);
}

Sha256::~Sha256() = default;

void Sha256::update(std::string_view data) {
  EVP_DigestUpdate(ctx_->md.get(), data.data(), data.size());
}

Status Sha256::update_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail(ErrorCode::invalid_argument, "cannot read " + path.string());
  char buf[65536];
  while (in.read(buf, static_cast<std::streamsize>(sizeof buf)) || in.gcount() > 0)
    update(std::string_view(buf, static_cast<std::size_t>(in.gcount())));
  if (in.bad()) return fail(ErrorCode::invalid_argument, "cannot read " + path.string());
  return ok();
}

std::string Sha256::hex() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_->md.get(), digest, &len);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < len; ++i) {
    out += kHex[digest[i] >> 4U];
    out += kHex[digest[i] & 0xFU];
  }
  return out;
}

Result<std::string> sha256_file(const std::filesystem::path& path) {
  Sha256 h;
  IGNITE_TRY(h.update_file(path));
  return "sha256:" + h.hex();
}

}  // namespace ignite::sys
