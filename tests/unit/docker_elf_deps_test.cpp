// ElfDeps: DT_NEEDED and PT_INTERP read from ELF files with bounded reads; broken or hostile
// files fail cleanly (src/docker/elf_deps.*).
#include "docker/elf_deps.hpp"

#include <fcntl.h>

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>

#include "../common/fake_elf.hpp"
#include "sys/fd.hpp"

namespace ignite::docker {
namespace {

using testing::make_fake_elf;
using testing::put_le;

TEST(ElfDeps, reads_the_interpreter_and_needed_libraries_in_order) {
  const auto elf = make_fake_elf({"libz.so.1", "libc.so.6"}, "/lib64/ld-linux-x86-64.so.2");
  const auto deps = parse_elf_deps(elf.bytes);
  ASSERT_TRUE(deps) << deps.error().message;
  ASSERT_TRUE(*deps);
  EXPECT_EQ((*deps)->interpreter, "/lib64/ld-linux-x86-64.so.2");
  EXPECT_EQ((*deps)->needed, (std::vector<std::string>{"libz.so.1", "libc.so.6"}));
}

TEST(ElfDeps, a_static_file_needs_nothing) {
  const auto elf = make_fake_elf({}, "", false);
  const auto deps = parse_elf_deps(elf.bytes);
  ASSERT_TRUE(deps && *deps);
  EXPECT_TRUE((*deps)->interpreter.empty());
  EXPECT_TRUE((*deps)->needed.empty());
}

TEST(ElfDeps, reads_a_real_dynamically_linked_binary_from_its_fd) {
  sys::Fd fd(::open("/bin/true", O_RDONLY | O_CLOEXEC));
  if (!fd) GTEST_SKIP() << "no /bin/true here";
  const auto deps = read_elf_deps(fd.get());
  ASSERT_TRUE(deps) << deps.error().message;
  ASSERT_TRUE(*deps) << "/bin/true is not an x86-64 ELF file";
  if ((*deps)->interpreter.empty()) GTEST_SKIP() << "/bin/true is static here";
  EXPECT_EQ((*deps)->interpreter, "/lib64/ld-linux-x86-64.so.2");
  EXPECT_NE(std::find((*deps)->needed.begin(), (*deps)->needed.end(), "libc.so.6"), (*deps)->needed.end());
}

TEST(ElfDeps, other_files_and_other_machines_are_not_for_the_loader) {
  EXPECT_FALSE(*parse_elf_deps(std::string_view("#!/bin/sh\necho hello\n")));
  EXPECT_FALSE(*parse_elf_deps(std::string_view("\x7f" "EL")));  // shorter than a magic
  auto elf = make_fake_elf({"libc.so.6"});
  auto other = elf.bytes;
  other[4] = 1;  // ELFCLASS32
  EXPECT_FALSE(*parse_elf_deps(other));
  other = elf.bytes;
  other[5] = 2;  // big endian
  EXPECT_FALSE(*parse_elf_deps(other));
  other = elf.bytes;
  put_le(other, 18, 183, 2);  // EM_AARCH64
  EXPECT_FALSE(*parse_elf_deps(other));
  other = elf.bytes;
  put_le(other, 16, 1, 2);  // ET_REL: an object file
  EXPECT_FALSE(*parse_elf_deps(other));
}

TEST(ElfDeps, every_truncation_fails_cleanly) {
  const auto elf = make_fake_elf({"libz.so.1", "libc.so.6"}, "/lib64/ld-linux-x86-64.so.2");
  for (std::size_t n = 4; n < elf.bytes.size(); ++n) {
    const auto deps = parse_elf_deps(std::string_view(elf.bytes).substr(0, n));
    EXPECT_FALSE(deps) << "cut at " << n << " parsed";
  }
}

TEST(ElfDeps, bogus_offsets_and_counts_are_refused) {
  const auto elf = make_fake_elf({"libz.so.1"}, "/lib64/ld-linux-x86-64.so.2");
  auto expect_refused = [](const std::string& bytes, const char* what) {
    const auto deps = parse_elf_deps(bytes);
    EXPECT_FALSE(deps) << what;
    if (!deps) { EXPECT_EQ(deps.error().code, ErrorCode::invalid_argument) << what; }
  };
  std::string b = elf.bytes;
  put_le(b, 32, ~std::uint64_t{0} - 16, 8);  // e_phoff: wraps around when the table is added
  expect_refused(b, "phoff overflow");
  b = elf.bytes;
  put_le(b, 56, 0xffff, 2);  // e_phnum: PN_XNUM
  expect_refused(b, "phnum 0xffff");
  b = elf.bytes;
  put_le(b, 54, 32, 2);  // e_phentsize
  expect_refused(b, "phentsize 32");
  // PT_INTERP (second header): its offset past the end, then 1 GB long, then no NUL.
  b = elf.bytes;
  put_le(b, elf.phoff + 56 + 8, b.size() + 100, 8);
  expect_refused(b, "interp offset");
  b = elf.bytes;
  put_le(b, elf.phoff + 56 + 32, 1ull << 30, 8);
  expect_refused(b, "interp size");
  b = elf.bytes;
  b[elf.interp + 27] = 'x';  // overwrites the NUL after "/lib64/ld-linux-x86-64.so.2"
  expect_refused(b, "interp without NUL");
  // PT_DYNAMIC (third header): offset past the end; DT_STRTAB at an unmapped address; the
  // name's offset past DT_STRSZ; DT_NULL gone (the table runs to the file's end).
  b = elf.bytes;
  put_le(b, elf.phoff + 112 + 8, ~std::uint64_t{0}, 8);
  expect_refused(b, "dynamic offset");
  b = elf.bytes;
  put_le(b, elf.dynamic + 16 + 8, 1ull << 40, 8);
  expect_refused(b, "strtab vaddr");
  b = elf.bytes;
  put_le(b, elf.dynamic + 8, 1000, 8);
  expect_refused(b, "needed offset");
  b = elf.bytes;
  put_le(b, elf.dynamic + 48, 7, 8);  // DT_NULL -> DT_HASH
  expect_refused(b, "no DT_NULL");
}

TEST(ElfDeps, a_huge_needed_count_is_refused) {
  std::vector<std::string> many(kElfMaxNeeded + 1, "libc.so.6");
  const auto deps = parse_elf_deps(make_fake_elf(many).bytes);
  ASSERT_FALSE(deps);
  EXPECT_NE(deps.error().message.find("DT_NEEDED"), std::string::npos) << deps.error().message;
  many.resize(kElfMaxNeeded);
  EXPECT_TRUE(parse_elf_deps(make_fake_elf(many).bytes));
}

TEST(ElfDeps, a_name_longer_than_a_file_name_is_refused) {
  const auto deps = parse_elf_deps(make_fake_elf({std::string(kElfMaxName + 1, 'l')}).bytes);
  EXPECT_FALSE(deps);
  EXPECT_TRUE(parse_elf_deps(make_fake_elf({std::string(kElfMaxName, 'l')}).bytes));
}

// Random corruption must never crash, hang or read outside the bytes (ASan checks the latter).
TEST(ElfDeps, random_corruption_never_crashes) {
  const auto elf = make_fake_elf({"libz.so.1", "libc.so.6"}, "/lib64/ld-linux-x86-64.so.2");
  std::mt19937 random(12);
  std::uniform_int_distribution<std::size_t> at(0, elf.bytes.size() - 1);
  std::uniform_int_distribution<int> byte(0, 255);
  for (int i = 0; i < 20000; ++i) {
    std::string b = elf.bytes;
    for (int k = 0; k < 1 + i % 4; ++k) b[at(random)] = static_cast<char>(byte(random));
    const auto deps = parse_elf_deps(b);
    if (deps && *deps) { EXPECT_LE((*deps)->needed.size(), kElfMaxNeeded); }
  }
}

}  // namespace
}  // namespace ignite::docker
