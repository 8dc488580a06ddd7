// SHA-256 of our own (sys/sha256): FIPS 180-4's examples on both block functions, the CPU's
// SHA extensions against the portable code over every split of many lengths, and coreutils'
// sha256sum as an independent check; random bytes and the constant-time compare.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <random>
#include <set>
#include <string>

#include "sys/random.hpp"
#include "sys/sha256.hpp"

namespace ignite::sys {
namespace {

std::string sha(std::string_view data, std::size_t chunk = 0) {
  Sha256 h;
  if (chunk == 0) {
    h.update(data);
  } else {
    for (std::size_t at = 0; at < data.size(); at += chunk) h.update(data.substr(at, chunk));
  }
  return h.hex();
}

// Runs the test body once per block function this machine has.
class Sha256Paths : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    if (!GetParam() && !Sha256::uses_cpu_extensions())
      GTEST_SKIP() << "this CPU has no SHA extensions: only the portable block function runs here";
    Sha256::force_portable(GetParam());
  }
  void TearDown() override { Sha256::force_portable(false); }
};

TEST_P(Sha256Paths, fips_180_examples) {
  EXPECT_EQ(sha(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sha("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(sha("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(sha("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrs"
                "mnopqrstnopqrstu"),
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
  const std::string million(1000000, 'a');
  EXPECT_EQ(sha(million), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
  EXPECT_EQ(sha(million, 997), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

INSTANTIATE_TEST_SUITE_P(BlockFunction, Sha256Paths, ::testing::Values(false, true),
                         [](const auto& p) { return p.param ? "portable" : "cpu_extensions"; });

TEST(Sha256, the_cpu_extensions_and_the_portable_code_agree_on_every_length_and_split) {
  if (!Sha256::uses_cpu_extensions()) GTEST_SKIP() << "this CPU has no SHA extensions: nothing to compare";
  std::mt19937 rng(7);
  std::string data(300, '\0');
  for (auto& c : data) c = static_cast<char>(rng());
  for (std::size_t len = 0; len <= data.size(); ++len) {
    const std::string_view part(data.data(), len);
    const std::string fast = sha(part);
    Sha256::force_portable(true);
    const std::string slow = sha(part);
    const std::string slow_split = sha(part, 1 + len % 67);
    Sha256::force_portable(false);
    ASSERT_EQ(fast, slow) << "length " << len;
    ASSERT_EQ(fast, slow_split) << "length " << len;
  }
}

TEST(Sha256, a_digest_starts_the_object_over_and_an_empty_view_is_nothing) {
  Sha256 h;
  h.update(std::string_view{});  // null data(): nothing to copy
  h.update("ab");
  h.update("c");
  EXPECT_EQ(h.hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(h.hex(), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855") << "as if new";
  h.update("abc");
  EXPECT_EQ(h.hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(Sha256, agrees_with_coreutils_sha256sum_on_a_file) {
  std::mt19937 rng(11);
  std::string data(100003, '\0');
  for (auto& c : data) c = static_cast<char>(rng());
  const std::string path = ::testing::TempDir() + "ignite-sha256-test.bin";
  std::ofstream(path, std::ios::binary) << data;
  FILE* p = ::popen(("sha256sum '" + path + "'").c_str(), "r");
  ASSERT_NE(p, nullptr);
  char out[65] = {};
  const std::size_t n = std::fread(out, 1, 64, p);
  ::pclose(p);
  ASSERT_EQ(n, 64u) << "sha256sum printed nothing";
  auto ours = sha256_file(path);
  ASSERT_TRUE(ours) << ours.error().message;
  EXPECT_EQ(*ours, "sha256:" + std::string(out, 64));
  std::remove(path.c_str());
  EXPECT_FALSE(sha256_file(path)) << "a missing file is an error";
}

TEST(ConstantTimeEqual, compares_every_byte) {
  const std::uint8_t a[4] = {1, 2, 3, 4}, b[4] = {1, 2, 3, 5}, c[4] = {0, 2, 3, 4};
  EXPECT_TRUE(equal_constant_time(a, a, 4));
  EXPECT_FALSE(equal_constant_time(a, b, 4));
  EXPECT_FALSE(equal_constant_time(a, c, 4));
  EXPECT_TRUE(equal_constant_time(a, b, 3));
}

TEST(RandomHex, is_hex_of_the_size_asked_and_never_repeats) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    const std::string h = random_hex(16);
    ASSERT_EQ(h.size(), 32u);
    ASSERT_EQ(h.find_first_not_of("0123456789abcdef"), std::string::npos) << h;
    seen.insert(h);
  }
  EXPECT_EQ(seen.size(), 1000u);
  EXPECT_EQ(random_hex(0), "");
}

}  // namespace
}  // namespace ignite::sys
