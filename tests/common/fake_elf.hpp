// fake_elf: a minimal x86-64 ELF64 shared object made in memory (one PT_LOAD over the whole
// file, optionally a PT_INTERP, a PT_DYNAMIC with DT_NEEDED, DT_STRTAB, DT_STRSZ, DT_NULL), so
// tests can write runtime trees full of "libraries" and corrupt them field by field.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace ignite::testing {

struct FakeElf {
  std::string bytes;
  // Offsets of the parts, to corrupt them.
  std::size_t phoff = 64, interp = 0, strtab = 0, dynamic = 0;
};

inline void put_le(std::string& b, std::size_t at, std::uint64_t value, std::size_t width) {
  for (std::size_t i = 0; i < width; ++i) b[at + i] = static_cast<char>((value >> (8 * i)) & 0xff);
}

inline FakeElf make_fake_elf(const std::vector<std::string>& needed, const std::string& interpreter = {},
                             bool dynamic = true) {
  FakeElf elf;
  const std::size_t phnum = std::size_t{1} + (interpreter.empty() ? 0u : 1u) + (dynamic ? 1u : 0u);
  std::string& b = elf.bytes;
  b.assign(64 + phnum * 56, '\0');
  elf.interp = b.size();
  if (!interpreter.empty()) b += interpreter + '\0';
  elf.strtab = b.size();
  std::string strtab(1, '\0');
  std::vector<std::size_t> names;
  for (const auto& n : needed) {
    names.push_back(strtab.size());
    strtab += n + '\0';
  }
  b += strtab;
  while (b.size() % 8 != 0) b += '\0';
  elf.dynamic = b.size();
  std::vector<std::pair<std::uint64_t, std::uint64_t>> dyn;
  for (std::size_t at : names) dyn.emplace_back(1, at);  // DT_NEEDED
  dyn.emplace_back(5, elf.strtab);                         // DT_STRTAB (vaddr == offset)
  dyn.emplace_back(10, strtab.size());                     // DT_STRSZ
  dyn.emplace_back(0, 0);                                  // DT_NULL
  if (dynamic) {
    for (const auto& [tag, value] : dyn) {
      const std::size_t at = b.size();
      b.append(16, '\0');
      put_le(b, at, tag, 8);
      put_le(b, at + 8, value, 8);
    }
  }
  // ELF header.
  std::memcpy(b.data(), "\x7f" "ELF", 4);
  b[4] = 2;  // ELFCLASS64
  b[5] = 1;  // little endian
  b[6] = 1;  // EV_CURRENT
  put_le(b, 16, 3, 2);    // ET_DYN
  put_le(b, 18, 62, 2);   // EM_X86_64
  put_le(b, 20, 1, 4);
  put_le(b, 32, elf.phoff, 8);
  put_le(b, 52, 64, 2);
  put_le(b, 54, 56, 2);
  put_le(b, 56, phnum, 2);
  // Program headers.
  std::size_t ph = elf.phoff;
  auto phdr = [&](std::uint32_t type, std::uint64_t offset, std::uint64_t size) {
    put_le(b, ph, type, 4);
    put_le(b, ph + 8, offset, 8);
    put_le(b, ph + 16, offset, 8);  // vaddr
    put_le(b, ph + 32, size, 8);
    put_le(b, ph + 40, size, 8);
    ph += 56;
  };
  phdr(1, 0, b.size());  // PT_LOAD of everything
  if (!interpreter.empty()) phdr(3, elf.interp, interpreter.size() + 1);
  if (dynamic) phdr(2, elf.dynamic, dyn.size() * 16);
  return elf;
}

}  // namespace ignite::testing
