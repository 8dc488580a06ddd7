#include "docker/elf_deps.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ignite::docker {
namespace {

// ELF64 constants (elf.h spelled out: the values are the format, not the host's).
constexpr std::size_t kEhdrSize = 64, kPhdrSize = 56, kDynSize = 16;
constexpr unsigned char kClass64 = 2, kLittleEndian = 1;
constexpr std::uint16_t kTypeExec = 2, kTypeDyn = 3, kMachineX86_64 = 62;
constexpr std::uint32_t kPtLoad = 1, kPtDynamic = 2, kPtInterp = 3;
constexpr std::uint64_t kDtNull = 0, kDtNeeded = 1, kDtStrtab = 5, kDtStrsz = 10;

template <class T>
T load(std::string_view bytes, std::size_t at) {
  T value = 0;
  for (std::size_t i = sizeof(T); i-- > 0;)
    value = static_cast<T>((value << 8) | static_cast<unsigned char>(bytes[at + i]));  // little endian
  return value;
}

Unexpected malformed(const std::string& why) { return fail(ErrorCode::invalid_argument, "malformed ELF: " + why); }

// Whether [offset, offset + size) lies inside a file of `file_size` bytes, without overflow.
bool inside(std::uint64_t offset, std::uint64_t size, std::uint64_t file_size) {
  return offset <= file_size && size <= file_size - offset;
}

struct Segment {
  std::uint64_t offset, vaddr, filesz;
};

class Parser {
 public:
  Parser(std::uint64_t file_size, const ElfReader& read) : size_(file_size), read_(read) {}

  Result<std::optional<ElfDeps>> run() {
    if (size_ < 4) return std::optional<ElfDeps>{};
    IGNITE_TRY_ASSIGN(const std::string head, read_at(0, std::min<std::uint64_t>(size_, kEhdrSize), "the header"));
    if (head.compare(0, 4, "\x7f" "ELF") != 0) return std::optional<ElfDeps>{};
    if (head.size() < kEhdrSize) return malformed("shorter than its header");
    if (static_cast<unsigned char>(head[4]) != kClass64 || static_cast<unsigned char>(head[5]) != kLittleEndian ||
        load<std::uint16_t>(head, 18) != kMachineX86_64)
      return std::optional<ElfDeps>{};
    const auto file_type = load<std::uint16_t>(head, 16);
    if (file_type != kTypeExec && file_type != kTypeDyn) return std::optional<ElfDeps>{};

    const auto phoff = load<std::uint64_t>(head, 32);
    const auto phentsize = load<std::uint16_t>(head, 54);
    const auto phnum = load<std::uint16_t>(head, 56);
    if (phnum == 0) return std::optional<ElfDeps>{ElfDeps{}};
    if (phentsize != kPhdrSize) return malformed("program header size " + std::to_string(phentsize));
    if (phnum > kElfMaxProgramHeaders) return malformed(std::to_string(phnum) + " program headers");
    const std::uint64_t table = std::uint64_t{phnum} * kPhdrSize;
    IGNITE_TRY_ASSIGN(const std::string phdrs, read_exact(phoff, table, "the program headers"));

    ElfDeps deps;
    std::optional<Segment> dynamic;
    for (std::size_t i = 0; i < phnum; ++i) {
      const std::size_t at = i * kPhdrSize;
      const Segment s{load<std::uint64_t>(phdrs, at + 8), load<std::uint64_t>(phdrs, at + 16),
                      load<std::uint64_t>(phdrs, at + 32)};
      const auto type = load<std::uint32_t>(phdrs, at);
      if (type == kPtLoad) loads_.push_back(s);
      if (type == kPtDynamic) dynamic = s;
      if (type == kPtInterp) {
        IGNITE_TRY_ASSIGN(deps.interpreter, interpreter(s));
      }
    }
    if (dynamic) IGNITE_TRY(needed(*dynamic, deps.needed));
    return std::optional<ElfDeps>{std::move(deps)};
  }

 private:
  Result<std::string> read_at(std::uint64_t offset, std::uint64_t size, const char* what) {
    IGNITE_TRY_ASSIGN(std::string got, read_(offset, static_cast<std::size_t>(size)));
    if (got.size() > size) return malformed(std::string("reading ") + what + " returned too much");
    return got;
  }
  Result<std::string> read_exact(std::uint64_t offset, std::uint64_t size, const char* what) {
    if (!inside(offset, size, size_)) return malformed(std::string(what) + " lie outside the file");
    IGNITE_TRY_ASSIGN(std::string got, read_at(offset, size, what));
    if (got.size() != size) return malformed(std::string(what) + " were cut short (the file shrank?)");
    return got;
  }

  Result<std::string> interpreter(const Segment& s) {
    if (s.filesz == 0 || s.filesz > kElfMaxInterpreter) return malformed("interpreter of " + std::to_string(s.filesz) + " bytes");
    IGNITE_TRY_ASSIGN(std::string text, read_exact(s.offset, s.filesz, "the interpreter bytes"));
    const std::size_t end = text.find('\0');
    if (end == std::string::npos || end == 0) return malformed("interpreter is not a NUL-terminated path");
    text.resize(end);
    return text;
  }

  // The file offset of a virtual address, through the PT_LOAD segment that maps it.
  std::optional<std::uint64_t> file_offset(std::uint64_t vaddr) const {
    for (const Segment& s : loads_)
      if (vaddr >= s.vaddr && vaddr - s.vaddr < s.filesz) return s.offset + (vaddr - s.vaddr);
    return std::nullopt;
  }

  Status needed(const Segment& dyn, std::vector<std::string>& out) {
    // Read no more than the bound allows; a table that has no DT_NULL within it is refused.
    const std::uint64_t entries = std::min<std::uint64_t>(dyn.filesz / kDynSize, kElfMaxDynamicEntries);
    IGNITE_TRY_ASSIGN(const std::string table, read_exact(dyn.offset, entries * kDynSize, "the dynamic entries"));
    std::vector<std::uint64_t> names;
    std::optional<std::uint64_t> strtab, strsz;
    bool ended = false;
    for (std::size_t i = 0; i < entries && !ended; ++i) {
      const auto tag = load<std::uint64_t>(table, i * kDynSize);
      const auto value = load<std::uint64_t>(table, i * kDynSize + 8);
      if (tag == kDtNull) ended = true;
      else if (tag == kDtNeeded) {
        if (names.size() == kElfMaxNeeded) return malformed("more than " + std::to_string(kElfMaxNeeded) + " DT_NEEDED entries");
        names.push_back(value);
      } else if (tag == kDtStrtab) strtab = value;
      else if (tag == kDtStrsz) strsz = value;
    }
    if (!ended) return malformed("the dynamic section has no end within " + std::to_string(entries) + " entries");
    if (names.empty()) return ok();
    if (!strtab || !strsz) return malformed("DT_NEEDED without a string table");
    const std::optional<std::uint64_t> base = file_offset(*strtab);
    if (!base || !inside(*base, *strsz, size_)) return malformed("the string table lies outside the file");
    for (const std::uint64_t at : names) {
      if (at >= *strsz) return malformed("a DT_NEEDED name lies outside the string table");
      const std::uint64_t room = std::min<std::uint64_t>(*strsz - at, kElfMaxName + 1);
      IGNITE_TRY_ASSIGN(std::string name, read_exact(*base + at, room, "a DT_NEEDED name"));
      const std::size_t end = name.find('\0');
      if (end == std::string::npos || end == 0) return malformed("a DT_NEEDED name is empty or longer than " + std::to_string(kElfMaxName) + " bytes");
      name.resize(end);
      out.push_back(std::move(name));
    }
    return ok();
  }

  std::uint64_t size_;
  const ElfReader& read_;
  std::vector<Segment> loads_;
};

}  // namespace

Result<std::optional<ElfDeps>> parse_elf_deps(std::uint64_t file_size, const ElfReader& read) {
  return Parser(file_size, read).run();
}

Result<std::optional<ElfDeps>> parse_elf_deps(std::string_view bytes) {
  const ElfReader read = [bytes](std::uint64_t offset, std::size_t size) -> Result<std::string> {
    if (offset >= bytes.size()) return std::string();
    return std::string(bytes.substr(static_cast<std::size_t>(offset), size));
  };
  return parse_elf_deps(bytes.size(), read);
}

Result<std::optional<ElfDeps>> read_elf_deps(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return fail(Error::from_errno("stat"));
  if (!S_ISREG(st.st_mode)) return std::optional<ElfDeps>{};
  const ElfReader read = [fd](std::uint64_t offset, std::size_t size) -> Result<std::string> {
    std::string out(size, '\0');
    std::size_t got = 0;
    while (got < size) {
      const ssize_t n = ::pread(fd, out.data() + got, size - got, static_cast<off_t>(offset + got));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return fail(Error::from_errno("read"));
      if (n == 0) break;
      got += static_cast<std::size_t>(n);
    }
    out.resize(got);
    return out;
  };
  return parse_elf_deps(static_cast<std::uint64_t>(st.st_size), read);
}

}  // namespace ignite::docker
