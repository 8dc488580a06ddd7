// ElfDeps: what an x86-64 ELF file asks the dynamic loader for (its interpreter and its
// DT_NEEDED libraries), so a runtime image carries the shared libraries its files link and no
// others. Read with small bounded reads at the offsets the headers name: a hostile or broken
// file (a runtime store is filled from downloaded packages) can make the parse fail, never
// allocate without bound, loop or read outside the file. Nothing is executed (`ldd` would run
// the loader on the file).
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace ignite::docker {

struct ElfDeps {
  std::string interpreter;          // PT_INTERP ("/lib64/ld-linux-x86-64.so.2"); "" when static
  std::vector<std::string> needed;  // DT_NEEDED names, in file order, as written in the file
};

// Bounds of what one file may declare; real files stay far below (libstdc++: 7 program
// headers, ~40 dynamic entries, 4 DT_NEEDED).
inline constexpr std::uint16_t kElfMaxProgramHeaders = 256;
inline constexpr std::size_t kElfMaxDynamicEntries = 4096;
inline constexpr std::size_t kElfMaxNeeded = 256;
inline constexpr std::size_t kElfMaxInterpreter = 4096;
inline constexpr std::size_t kElfMaxName = 255;  // a DT_NEEDED name is a file name

// Returns up to `size` bytes at `offset` (fewer only at the end of the file).
using ElfReader = std::function<Result<std::string>(std::uint64_t offset, std::size_t size)>;

// nullopt: not ELF, or ELF for another class, byte order or machine, or neither an executable
// nor a shared object (nothing here for the x86-64 loader). An x86-64 ELF64 executable or
// shared object whose headers point outside the file, or beyond the bounds above, fails with
// invalid_argument saying what is wrong.
Result<std::optional<ElfDeps>> parse_elf_deps(std::uint64_t file_size, const ElfReader& read);
Result<std::optional<ElfDeps>> parse_elf_deps(std::string_view bytes);  // a file held in memory
Result<std::optional<ElfDeps>> read_elf_deps(int fd);                   // an open file (pread)

}  // namespace ignite::docker
