#include "docker/image_contents.hpp"

#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <deque>
#include <map>
#include <optional>
#include <set>

#include "core/printable.hpp"
#include "docker/elf_deps.hpp"
#include "sys/fd.hpp"
#include "sys/tree.hpp"

namespace ignite::docker {
namespace {

namespace fs = std::filesystem;

constexpr int kMaxLinks = 40;  // as the kernel's path walk (ELOOP)
constexpr std::size_t kMaxUnresolved = 50;
constexpr std::uint64_t kElfHeaderSize = 64;

// Lexically normal absolute path: no ".", "..", "//" or trailing '/'; ".." stops at "/" (as the
// kernel's walk does).
std::string normal(const std::string& path) {
  std::string out = fs::path("/" + path).lexically_normal().string();
  while (out.size() > 1 && out.back() == '/') out.pop_back();
  return out;
}
std::string parent_of(const std::string& path) {
  const std::size_t cut = path.rfind('/');
  return cut == 0 || cut == std::string::npos ? "/" : path.substr(0, cut);
}
std::string base_of(const std::string& path) { return path.substr(path.rfind('/') + 1); }
std::string join(const std::string& dir, const std::string& name) { return dir == "/" ? "/" + name : dir + "/" + name; }

// The target text of a link at `at` as the image stores it. Docker refuses to unpack a link
// whose relative text climbs above the directory it unpacks into, and in the image such a text
// means what its normal absolute form means (".." stops at "/"): that form is written instead.
std::string image_link(const std::string& at, const std::string& text) {
  if (text.front() == '/') return text;
  long depth = 0;
  for (const auto& part : fs::path(parent_of(at)).relative_path()) depth += part == ".." ? -1 : part == "." ? 0 : 1;
  for (const auto& part : fs::path(text)) {
    depth += part == ".." ? -1 : part == "." || part.empty() ? 0 : 1;
    if (depth < 0) return normal(parent_of(at) + "/" + text);
  }
  return text;
}

Result<std::string> read_link_at(int dirfd, const char* name, const std::string& what) {
  char buf[PATH_MAX];
  const ssize_t n = ::readlinkat(dirfd, name, buf, sizeof buf);
  if (n < 0) return fail(Error::from_errno("readlink " + what));
  if (n == 0 || static_cast<std::size_t>(n) == sizeof buf)
    return fail(ErrorCode::invalid_argument, "readlink " + what + ": empty or too long");
  return std::string(buf, static_cast<std::size_t>(n));
}

std::int64_t mtime_ns(const struct stat& st) {
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

// A DT_NEEDED name is a file name the loader looks up in its directories. Security: one with a
// '/' is a path the loader would open as it is (and "..", a climb): neither may pull a file
// from outside the library dirs into the image.
bool plain_library_name(const std::string& name) {
  return !name.empty() && name.size() <= kElfMaxName && name != "." && name != ".." &&
         name.find('/') == std::string::npos;
}

ImageEntry dir_entry(std::string path, unsigned mode) {
  ImageEntry e;
  e.kind = ImageEntryKind::directory;
  e.path = std::move(path);
  e.mode = mode;
  return e;
}
ImageEntry link_entry(std::string path, std::string text) {
  ImageEntry e;
  e.kind = ImageEntryKind::symlink;
  e.path = std::move(path);
  e.mode = 0777;
  e.data = std::move(text);
  return e;
}
ImageEntry text_entry(std::string path, std::string data) {
  ImageEntry e;
  e.kind = ImageEntryKind::text;
  e.path = std::move(path);
  e.mode = 0644;
  e.data = std::move(data);
  return e;
}
// Security: the permission bits only; setuid, setgid and sticky never reach the image.
ImageEntry file_entry(std::string path, mode_t mode, std::filesystem::path source, const struct stat& st) {
  ImageEntry e;
  e.kind = ImageEntryKind::file;
  e.path = std::move(path);
  e.mode = static_cast<unsigned>(mode & 0777);
  e.source = std::move(source);
  e.size = static_cast<std::uint64_t>(st.st_size);
  e.mtime_ns = mtime_ns(st);
  return e;
}

struct Need {
  std::string name;  // DT_NEEDED name, or the interpreter's absolute path
  std::string by;    // the image path of the file that needs it
  bool interpreter = false;
};

class Lister {
 public:
  Lister(const runtime::Installed& rt, const HostLayout& host, const std::vector<std::string>& exclude)
      : rt_(rt), host_(host), exclude_(exclude) {}

  Result<ImageContents> run(const fs::path& init_binary) {
    IGNITE_TRY(mirror_top_links());
    for (const auto& d : host_.library_dirs) {
      if (auto real = resolve_in_root(d)) {
        library_dirs_.insert(*real);
        std::error_code ec;
        library_hosts_.insert(fs::weakly_canonical(on_host(*real), ec));
      }
    }
    main_binary_ = through_top_links(normal(rt_.sandbox_binary));
    IGNITE_TRY(add_skeleton(init_binary));
    std::vector<std::pair<std::string, std::string>> placed;  // host source, image path
    for (const Mount& m : rt_.mounts) {
      std::error_code ec;
      if (library_hosts_.count(fs::weakly_canonical(m.source, ec)) == 0) IGNITE_TRY(add_mount(m));
      if (!excluded(m.source)) placed.emplace_back(m.source.string(), through_top_links(normal(m.target.string())));
    }
    for (const auto& name : host_.dlopened_libraries) optional_.push_back({name, "glibc (dlopen)", false});
    IGNITE_TRY(resolve(required_, true));
    IGNITE_TRY(resolve(optional_, false));

    ImageContents out;
    out.unresolved = std::move(unresolved_);
    out.malformed_elf = malformed_;
    for (auto& [source, path] : placed) {
      const auto it = entries_.find(path);
      if (it != entries_.end() && it->second.kind != ImageEntryKind::symlink) out.mount_paths.emplace(source, path);
    }
    for (auto& [path, entry] : entries_) {
      out.bytes += entry.kind == ImageEntryKind::file ? entry.size : entry.data.size();
      out.entries.push_back(std::move(entry));
    }
    if (out.bytes > host_.max_bytes)
      return fail(ErrorCode::resource_exhausted, "image of " + rt_.label() + ": " + std::to_string(out.bytes) +
                                                     " bytes, more than the " + std::to_string(host_.max_bytes) + " allowed");
    return out;
  }

 private:
  fs::path on_host(const std::string& image_path) const { return host_.root / image_path.substr(1); }

  // /bin, /lib, /lib64, /sbin as the host has them: links into /usr on a merged-/usr system
  // (ELF interpreters are named through /lib64).
  Status mirror_top_links() {
    for (const char* name : {"bin", "lib", "lib64", "sbin"}) {
      std::error_code ec;
      const fs::path link = host_.root / name;
      if (!fs::is_symlink(link, ec)) continue;
      const std::string text = fs::read_symlink(link, ec).string();
      if (ec || text.empty()) continue;
      top_links_[name] = normal(text.front() == '/' ? text : "/" + text);
      IGNITE_TRY(put(link_entry("/" + std::string(name), image_link("/" + std::string(name), text))));
    }
    return ok();
  }

  // A path of the image with a mirrored top link in front replaced by where it points
  // ("/lib/x" -> "/usr/lib/x"): nothing may be put beneath a symlink of the image.
  std::string through_top_links(const std::string& path) const {
    const std::size_t end = path.find('/', 1);
    const std::string first = path.substr(1, end == std::string::npos ? std::string::npos : end - 1);
    const auto link = top_links_.find(first);
    if (link == top_links_.end()) return path;
    return end == std::string::npos ? link->second : normal(link->second + path.substr(end));
  }

  // The real path of `path` under the host root, every symlink followed as if the root were
  // "/" (absolute targets restart there, ".." stops there); fails when a part is missing or
  // the links are too many.
  Result<std::string> resolve_in_root(const std::string& path) const {
    std::vector<std::string> todo;  // parts still to walk, the next one last
    auto push_parts = [&todo](const std::string& text) {
      std::vector<std::string> parts;
      for (const auto& p : fs::path(text)) {
        const std::string s = p.string();
        if (!s.empty() && s != "/" && s != ".") parts.push_back(s);
      }
      todo.insert(todo.end(), parts.rbegin(), parts.rend());
    };
    push_parts(path);
    std::vector<std::string> done;
    int links = 0;
    while (!todo.empty()) {
      const std::string part = std::move(todo.back());
      todo.pop_back();
      if (part == "..") {
        if (!done.empty()) done.pop_back();
        continue;
      }
      std::string at;
      for (const auto& d : done) at += "/" + d;
      at += "/" + part;
      struct stat st {};
      if (::lstat(on_host(at).c_str(), &st) != 0) return fail(Error::from_errno(at));
      if (!S_ISLNK(st.st_mode)) {
        done.push_back(part);
        continue;
      }
      if (++links > kMaxLinks) return fail(ErrorCode::invalid_argument, path + ": too many levels of symlinks");
      IGNITE_TRY_ASSIGN(const std::string text, read_link_at(AT_FDCWD, on_host(at).c_str(), at));
      if (text.front() == '/') done.clear();
      push_parts(text);
    }
    std::string out;
    for (const auto& d : done) out += "/" + d;
    return out.empty() ? std::string("/") : out;
  }

  // Adds an entry and any missing parent directory. Security: nothing goes beneath a symlink
  // or a file of the image (Docker would unpack through the link).
  Status put(ImageEntry entry) {
    for (std::string dir = parent_of(entry.path); dir != "/"; dir = parent_of(dir)) {
      const auto it = entries_.find(dir);
      if (it == entries_.end()) {
        entries_.emplace(dir, dir_entry(dir, 0755));
      } else if (it->second.kind != ImageEntryKind::directory) {
        return fail(ErrorCode::invalid_argument, "image of " + rt_.label() + ": " + entry.path +
                                                     " would lie beneath " + dir + ", which is not a directory");
      }
    }
    const auto it = entries_.find(entry.path);
    // A later mount hides what an earlier one put at the same path, as in the native sandbox;
    // but a directory that already holds entries stays one.
    if (it != entries_.end() && it->second.kind == ImageEntryKind::directory &&
        entry.kind == ImageEntryKind::directory)
      return ok();
    entries_.insert_or_assign(entry.path, std::move(entry));
    return ok();
  }

  Status add_skeleton(const fs::path& init_binary) {
    for (const char* dir : {"/app", "/etc", "/ignite/ctl", "/node_modules", "/opt/ignite", "/out", "/run/ignite"})
      IGNITE_TRY(put(dir_entry(dir, 0755)));
    IGNITE_TRY(put(dir_entry("/tmp", 01777)));
    // The container runs as a numeric uid with no entry here (HOME=/tmp comes from the env).
    IGNITE_TRY(put(text_entry("/etc/passwd",
                              "root:x:0:0:root:/root:/usr/sbin/nologin\n"
                              "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n")));
    IGNITE_TRY(put(text_entry("/etc/group", "root:x:0:\nnogroup:x:65534:\n")));
    IGNITE_TRY(put(text_entry("/etc/hosts", "127.0.0.1\tlocalhost\n::1\tlocalhost\n")));
    IGNITE_TRY(put(text_entry("/etc/hostname", "ignite\n")));
    for (const auto& file : host_.public_files) {
      const auto real = resolve_in_root(file);
      struct stat st {};
      if (!real || ::lstat(on_host(*real).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      IGNITE_TRY(put(file_entry(through_top_links(normal(file)), 0644, on_host(*real), st)));
    }
    if (init_binary.empty()) return ok();
    struct stat st {};
    if (::stat(init_binary.c_str(), &st) != 0)
      return fail(Error::from_errno("the docker init binary " + init_binary.string()));
    if (!S_ISREG(st.st_mode))
      return fail(ErrorCode::invalid_argument, "the docker init binary " + init_binary.string() + " is not a file");
    std::error_code ec;
    return put(file_entry("/ignite/init", 0755, fs::canonical(init_binary, ec), st));
  }

  // The runtime's exclusions: a pattern that matches a directory covers all beneath it.
  bool excluded(const fs::path& host_path) const {
    for (const auto& pattern : exclude_)
      if (::fnmatch(pattern.c_str(), host_path.c_str(), FNM_PATHNAME | FNM_LEADING_DIR) == 0) return true;
    return false;
  }

  Status add_mount(const Mount& m) {
    if (excluded(m.source)) return ok();
    const std::string base = through_top_links(normal(m.target.string()));
    const std::string what = "runtime " + rt_.label() + ": mount " + m.source.string();
    struct stat st {};
    if (::stat(m.source.c_str(), &st) != 0) return fail(Error::from_errno(what));
    if (S_ISREG(st.st_mode)) {
      // A bind follows a link in its source; the copy reads the file it leads to.
      std::error_code ec;
      const fs::path real = fs::canonical(m.source, ec);
      if (ec) return fail(ErrorCode::invalid_argument, what + ": " + ec.message());
      IGNITE_TRY(put(file_entry(base, st.st_mode, real, st)));
      sys::Fd fd(::open(real.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
      if (!fd) return fail(Error::from_errno(what));
      return note_elf(fd.get(), base, static_cast<std::uint64_t>(st.st_size));
    }
    if (!S_ISDIR(st.st_mode)) return fail(ErrorCode::invalid_argument, what + ": neither a file nor a directory");
    IGNITE_TRY(put(dir_entry(base, st.st_mode & 0777)));
    sys::TreeLimits limits;
    limits.max_entries = host_.max_entries;
    const Status walked = sys::walk_tree(m.source, limits, [&](const std::string& rel, int dirfd, const char* name,
                                                              const struct stat& s) -> Status {
      if (excluded(m.source / rel)) return ok();
      const std::string at = base == "/" ? "/" + rel : base + "/" + rel;
      const auto mode = static_cast<unsigned>(s.st_mode & 0777);  // Security: no setuid/setgid/sticky
      if (S_ISDIR(s.st_mode)) return put(dir_entry(at, mode));
      if (S_ISLNK(s.st_mode)) {
        // Kept as the link it is: in the image it means what it means in the native sandbox,
        // where the same tree is mounted at the same place (a target outside every mount
        // dangles in both). Security: never resolved on the host and copied, which would put
        // host files the native sandbox does not show (a store package linking /etc/shadow)
        // into the image.
        IGNITE_TRY_ASSIGN(const std::string text, read_link_at(dirfd, name, at));
        return put(link_entry(at, image_link(at, text)));
      }
      IGNITE_TRY(put(file_entry(at, mode, m.source / rel, s)));
      if (static_cast<std::uint64_t>(s.st_size) < kElfHeaderSize) return ok();
      sys::Fd fd(::openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
      if (!fd) return fail(Error::from_errno(what + ": open " + rel));
      return note_elf(fd.get(), at, static_cast<std::uint64_t>(s.st_size));
    });
    if (!walked) return fail(Error(walked.error()).with_context(what));
    return ok();
  }

  // Queues what an ELF file of the runtime's trees needs; the runtime's own binary must parse.
  Status note_elf(int fd, const std::string& at, std::uint64_t size) {
    if (size < kElfHeaderSize) return ok();
    const bool main = at == main_binary_;
    auto deps = read_elf_deps(fd);
    if (!deps) {
      if (main) return fail(Error(deps.error()).with_context("runtime " + rt_.label() + ": " + at));
      ++malformed_;
      return ok();
    }
    if (*deps) queue(**deps, at, main ? required_ : optional_);
    return ok();
  }

  static void queue(const ElfDeps& deps, const std::string& by, std::deque<Need>& into) {
    if (!deps.interpreter.empty()) into.push_back({deps.interpreter, by, true});
    for (const auto& name : deps.needed) into.push_back({name, by, false});
  }

  // Finds every need and what the libraries found need in turn. A need of the runtime's own
  // binary (or of a library it needs) that cannot be met fails: the image could not start it.
  Status resolve(std::deque<Need>& todo, bool required) {
    while (!todo.empty()) {
      const Need need = std::move(todo.front());
      todo.pop_front();
      const std::string key = (need.interpreter ? "interp:" : "") + need.name;
      if (const auto known = found_.find(key); known != found_.end()) {
        if (!known->second.empty() || !required) continue;
      }
      std::string why;
      const std::optional<std::string> real = find(need, why);
      if (!real) {
        found_[key] = "";
        // Security: the name comes from a file's bytes: no control characters into messages.
        const std::string line = printable(need.name, 300) + " (needed by " + printable(need.by, 300) + "): " + why;
        if (required) return fail(ErrorCode::unsupported, "runtime " + rt_.label() + ": " + line);
        if (unresolved_.size() < kMaxUnresolved) unresolved_.push_back(line);
        continue;
      }
      found_[key] = *real;
      if (!parsed_.insert(*real).second) continue;
      // The host file the image's copy comes from (the end of a flattened chain, if it was).
      const fs::path source = entries_.at(*real).source;
      sys::Fd fd(::open(source.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
      if (!fd) return fail(Error::from_errno(*real));
      auto deps = read_elf_deps(fd.get());
      if (!deps) {
        if (required) return fail(Error(deps.error()).with_context("runtime " + rt_.label() + ": " + *real));
        ++malformed_;
        continue;
      }
      if (*deps) queue(**deps, *real, todo);
    }
    return ok();
  }

  std::optional<std::string> find(const Need& need, std::string& why) {
    if (need.interpreter) {
      if (need.name.front() != '/') {
        why = "the interpreter is not an absolute path";
        return std::nullopt;
      }
      return follow_library(normal(need.name), why);
    }
    if (!plain_library_name(need.name)) {
      why = "refused: not a plain file name";
      return std::nullopt;
    }
    for (const auto& dir : host_.library_dirs) {
      if (auto real = follow_library(join(normal(dir), need.name), why)) return real;
      if (why.rfind("refused", 0) == 0) return std::nullopt;  // there, but not to be followed
    }
    if (why.empty() || why == "not found") {
      why = "not found in";
      for (const auto& dir : host_.library_dirs) why += " " + dir;
    }
    return std::nullopt;
  }

  // Whether the real path `dir` is one of the library dirs or beneath one (blas/, ...).
  bool in_library_dirs(const std::string& dir) const {
    for (const auto& lib : library_dirs_)
      if (dir == lib || (dir.size() > lib.size() && dir.compare(0, lib.size(), lib) == 0 && dir[lib.size()] == '/'))
        return true;
    return false;
  }

  // Follows `path` hop by hop to a regular file, adding each link and the file to the image.
  // Security: every hop must lie in a library dir; a chain that leaves them is not followed.
  std::optional<std::string> follow_library(std::string path, std::string& why) {
    for (int hop = 0; hop <= kMaxLinks; ++hop) {
      const auto dir = resolve_in_root(parent_of(path));
      if (!dir) {
        why = "not found";
        return std::nullopt;
      }
      if (!in_library_dirs(*dir)) {
        why = "refused: " + path + " lies outside the library directories";
        return std::nullopt;
      }
      const std::string real = join(*dir, base_of(path));
      struct stat st {};
      if (::lstat(on_host(real).c_str(), &st) != 0) {
        why = "not found";
        return std::nullopt;
      }
      if (S_ISREG(st.st_mode)) {
        if (!put(file_entry(real, st.st_mode, on_host(real), st))) {
          why = "conflicts with another file of the image";
          return std::nullopt;
        }
        return real;
      }
      if (!S_ISLNK(st.st_mode)) {
        why = real + " is not a file";
        return std::nullopt;
      }
      auto text = read_link_at(AT_FDCWD, on_host(real).c_str(), real);
      if (!text) {
        why = text.error().message;
        return std::nullopt;
      }
      const std::string next = normal(text->front() == '/' ? *text : *dir + "/" + *text);
      const auto next_dir = resolve_in_root(parent_of(next));
      if (next_dir && !in_library_dirs(*next_dir)) {
        // The chain leaves the library dirs on its way (/etc/alternatives): the file it ends
        // at, if that lies in a library dir, is copied here in place of the link.
        const auto end = resolve_in_root(next);
        if (!end || !in_library_dirs(parent_of(*end)) || ::stat(on_host(*end).c_str(), &st) != 0 ||
            !S_ISREG(st.st_mode)) {
          why = "refused: " + real + " leads outside the library directories";
          return std::nullopt;
        }
        if (!put(file_entry(real, st.st_mode, on_host(*end), st))) {
          why = "conflicts with another file of the image";
          return std::nullopt;
        }
        return real;
      }
      // The text as written works in the image when the directory it names is the same there
      // (only the mirrored top links lie on the way); else the link names the real directory.
      const std::string stored = next_dir && through_top_links(parent_of(next)) != *next_dir
                                     ? join(*next_dir, base_of(next))
                                     : image_link(real, *text);
      if (!put(link_entry(real, stored))) {
        why = "conflicts with another file of the image";
        return std::nullopt;
      }
      path = next;
    }
    why = "too many levels of symlinks";
    return std::nullopt;
  }

  const runtime::Installed& rt_;
  const HostLayout& host_;
  const std::vector<std::string>& exclude_;
  std::map<std::string, std::string> top_links_;  // "lib" -> "/usr/lib"
  std::set<std::string> library_dirs_;            // real paths, in the image's terms
  std::set<fs::path> library_hosts_;              // the same on the host
  std::string main_binary_;
  std::map<std::string, ImageEntry> entries_;
  std::deque<Need> required_, optional_;
  std::map<std::string, std::string> found_;  // need -> real path ("" when not found)
  std::set<std::string> parsed_;
  std::vector<std::string> unresolved_;
  std::uint32_t malformed_ = 0;
};

}  // namespace

Result<ImageContents> list_image_contents(const runtime::Installed& rt, const fs::path& init_binary,
                                          const HostLayout& host, const std::vector<std::string>& exclude) {
  return Lister(rt, host, exclude).run(init_binary);
}

void hash_image(sys::Sha256& h, std::string_view format, const runtime::Installed& rt, const ImageContents& contents) {
  const auto field = [&h](std::string_view text) {
    h.update(std::to_string(text.size()));
    h.update(":");
    h.update(text);
  };
  field(format);
  field(rt.name);
  field(rt.version);
  for (const ImageEntry& e : contents.entries) {
    field(std::to_string(static_cast<int>(e.kind)));
    field(e.path);
    field(std::to_string(e.mode));
    field(std::to_string(e.size));
    field(std::to_string(e.mtime_ns));
    field(e.data);
  }
}

}  // namespace ignite::docker
