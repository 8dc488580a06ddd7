#include "sys/tree.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "sys/dir_names.hpp"
#include "sys/fd.hpp"
#include "sys/sha256.hpp"

namespace ignite::sys {
namespace {

namespace fs = std::filesystem;

// What a walk calls for each entry; dirs get enter (before their entries) and leave (after).
struct Visitor {
  std::function<Status(const std::string& rel, int dirfd, const char* name, const struct stat& st)> entry;
  std::function<Status(const std::string& rel, int dirfd, const char* name)> enter;
  std::function<Status()> leave;
};

// At most `limit` names: a directory of millions must not cost us their memory before the
// entry bound refuses it.
Result<std::vector<std::string>> sorted_names(int dirfd, const std::string& rel, std::size_t limit) {
  std::vector<std::string> names;
  if (const int err = sorted_dir_names(dirfd, limit, names); err != 0)
    return fail(Error::from_errno("read " + (rel.empty() ? std::string(".") : rel), err));
  return names;
}

class Walk {
 public:
  Walk(TreeBudget& budget, Visitor visitor) : budget_(budget), v_(std::move(visitor)) {}

  Status run(int dirfd, const std::string& prefix, std::uint32_t depth) {
    // One more than the budget left is enough to know it is exceeded.
    IGNITE_TRY_ASSIGN(std::vector<std::string> names,
                      sorted_names(dirfd, prefix, std::size_t{budget_.entries_left()} + 1));
    for (const auto& name : names) {
      const std::string rel = prefix.empty() ? name : prefix + "/" + name;
      struct stat st {};
      if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0)
        return fail(Error::from_errno("stat " + rel));
      // Count, depth and type: the same checks (and words) as the microvm guest's stream.
      IGNITE_TRY(budget_.entry(rel, st.st_mode, depth));
      IGNITE_TRY(v_.entry(rel, dirfd, name.c_str(), st));
      if (S_ISDIR(st.st_mode)) {
        Fd sub(::openat(dirfd, name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!sub) return fail(Error::from_errno("open " + rel));
        if (v_.enter) IGNITE_TRY(v_.enter(rel, dirfd, name.c_str()));
        IGNITE_TRY(run(sub.get(), rel, depth + 1));
        if (v_.leave) IGNITE_TRY(v_.leave());
      }
    }
    return ok();
  }

 private:
  TreeBudget& budget_;
  Visitor v_;
};

Result<std::string> read_link(int dirfd, const char* name, const std::string& rel) {
  char buf[PATH_MAX];
  const ssize_t n = ::readlinkat(dirfd, name, buf, sizeof buf);
  if (n < 0) return fail(Error::from_errno("readlink " + rel));
  if (static_cast<std::size_t>(n) == sizeof buf) return tree_refusal(rel, "symlink target too long");
  return std::string(buf, static_cast<std::size_t>(n));
}

// Opens a regular file of the tree for reading; the open must find what fstatat saw.
Result<Fd> open_file(int dirfd, const char* name, const std::string& rel, const struct stat& seen) {
  Fd in(::openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  if (!in) return fail(Error::from_errno("open " + rel));
  struct stat st {};
  if (::fstat(in.get(), &st) != 0) return fail(Error::from_errno("stat " + rel));
  if (!S_ISREG(st.st_mode) || st.st_ino != seen.st_ino || st.st_dev != seen.st_dev)
    return tree_refusal(rel, "changed while it was read");
  return in;
}

// Streams `in` through the hash (and to `out` when given); counts against the byte budget.
Status pump(int in, int out, Sha256& hash, std::uint64_t& size, TreeBudget* budget, const std::string& rel) {
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(in, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(Error::from_errno("read " + rel));
    if (n == 0) return ok();
    const auto len = static_cast<std::size_t>(n);
    size += len;
    if (budget) IGNITE_TRY(budget->bytes(rel, len));
    hash.update(std::string_view(buf, len));
    for (std::size_t off = 0; out >= 0 && off < len;) {
      const ssize_t w = ::write(out, buf + off, len - off);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) return fail(Error::from_errno("write " + rel));
      off += static_cast<std::size_t>(w);
    }
  }
}

// Shared by copy_tree_out and scan_tree: hashes files (copying them when `dest_root` is set).
Result<TreeManifest> manifest_of(int src, int dest_root, const TreeLimits& limits) {
  TreeManifest m;
  TreeBudget budget(limits);
  const bool copy = dest_root >= 0;
  std::vector<Fd> opened;  // copy: the destination dirs entered below dest_root
  auto dest = [&] { return opened.empty() ? dest_root : opened.back().get(); };
  Visitor v;
  v.entry = [&](const std::string& rel, int dirfd, const char* name, const struct stat& st) -> Status {
    TreeEntry e;
    e.path = rel;
    if (S_ISDIR(st.st_mode)) {
      e.kind = EntryKind::dir;
    } else if (S_ISLNK(st.st_mode)) {
      e.kind = EntryKind::symlink;
      IGNITE_TRY_ASSIGN(e.link, read_link(dirfd, name, rel));
      if (copy && ::symlinkat(e.link.c_str(), dest(), name) != 0)
        return fail(Error::from_errno("create " + rel));
    } else {
      e.kind = EntryKind::file;
      e.executable = (st.st_mode & 0111) != 0;
      IGNITE_TRY_ASSIGN(Fd in, open_file(dirfd, name, rel, st));
      Fd out;
      if (copy) {
        out.reset(::openat(dest(), name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
        if (!out) return fail(Error::from_errno("create " + rel));
      }
      Sha256 hash;
      IGNITE_TRY(pump(in.get(), out.get(), hash, e.size, &budget, rel));
      e.digest = hash.hex();
      // Security: read-only, and no setuid/setgid/sticky bit survives the copy.
      if (copy && ::fchmod(out.get(), e.executable ? 0555 : 0444) != 0)
        return fail(Error::from_errno("chmod " + rel));
    }
    m.entries.push_back(std::move(e));
    return ok();
  };
  if (copy) {
    v.enter = [&](const std::string& rel, int, const char* name) -> Status {
      if (::mkdirat(dest(), name, 0700) != 0) return fail(Error::from_errno("create " + rel));
      Fd d(::openat(dest(), name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
      if (!d) return fail(Error::from_errno("open " + rel));
      opened.push_back(std::move(d));
      return ok();
    };
    v.leave = [&]() -> Status {
      // Read-only once filled (0555: the sandbox user reads and enters it, nobody writes).
      if (::fchmod(dest(), 0555) != 0) return fail(Error::from_errno("chmod"));
      opened.pop_back();
      return ok();
    };
  }
  IGNITE_TRY(Walk(budget, std::move(v)).run(src, "", 0));
  if (copy && ::fchmod(dest_root, 0555) != 0) return fail(Error::from_errno("chmod"));
  m.bytes = budget.total();
  return m;
}

Result<Fd> open_dir(const fs::path& dir) {
  Fd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return fail(Error::from_errno("open " + dir.string()));
  return fd;
}

}  // namespace

Result<std::string> read_hashed(int dirfd, const char* name, const std::string& rel, const struct stat& seen,
                                int out) {
  IGNITE_TRY_ASSIGN(Fd in, open_file(dirfd, name, rel, seen));
  Sha256 hash;
  std::uint64_t size = 0;
  IGNITE_TRY(pump(in.get(), out, hash, size, nullptr, rel));
  return hash.hex();
}

Result<TreeManifest> copy_tree_out(int src, const fs::path& dest, const TreeLimits& limits) {
  IGNITE_TRY_ASSIGN(Fd out, open_dir(dest));
  return manifest_of(src, out.get(), limits);
}

Result<TreeManifest> scan_tree(const fs::path& dir, const TreeLimits& limits) {
  IGNITE_TRY_ASSIGN(Fd in, open_dir(dir));
  return manifest_of(in.get(), -1, limits);
}

Status walk_tree(const fs::path& dir, const TreeLimits& limits, const TreeVisitor& visit) {
  IGNITE_TRY_ASSIGN(Fd in, open_dir(dir));
  Visitor v;
  v.entry = visit;
  TreeBudget budget(limits);
  return Walk(budget, std::move(v)).run(in.get(), "", 0);
}

Result<std::string> stat_signature(const fs::path& dir, const TreeLimits& limits) {
  Sha256 h;
  IGNITE_TRY(walk_tree(dir, limits, [&](const std::string& rel, int, const char*, const struct stat& st) -> Status {
    const std::uint64_t fields[] = {
        static_cast<std::uint64_t>(st.st_mode), static_cast<std::uint64_t>(st.st_size),
        static_cast<std::uint64_t>(st.st_ino), static_cast<std::uint64_t>(st.st_mtim.tv_sec),
        static_cast<std::uint64_t>(st.st_mtim.tv_nsec), static_cast<std::uint64_t>(st.st_ctim.tv_sec),
        static_cast<std::uint64_t>(st.st_ctim.tv_nsec)};
    h.update(std::to_string(rel.size()) + ":" + rel);
    h.update(std::string_view(reinterpret_cast<const char*>(fields), sizeof fields));
    return ok();
  }));
  return h.hex();
}

Status remove_tree(const fs::path& path) {
  std::error_code ec;
  if (::geteuid() != 0) {
    // The directory iterator never follows symlinks unless asked to.
    for (auto it = fs::recursive_directory_iterator(path, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (it->is_directory(ec) && !it->is_symlink(ec)) ::chmod(it->path().c_str(), 0700);
    }
    ::chmod(path.c_str(), 0700);
    ec.clear();
  }
  fs::remove_all(path, ec);
  if (ec) return fail(Error::from_errno("remove " + path.string(), ec.value()));
  return ok();
}

}  // namespace ignite::sys
