#include "engine/input_key.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <chrono>

#include "sys/fd.hpp"
#include "sys/files.hpp"
#include "sys/owned_dir.hpp"
#include "sys/sha256.hpp"
#include "sys/tree.hpp"

namespace ignite::engine {
namespace {

namespace fs = std::filesystem;

// Service trees can be big; what the key walks is bounded all the same.
constexpr sys::TreeLimits kInputLimits{UINT64_MAX, 200000, 128};

std::string framed(std::string_view s) { return std::to_string(s.size()) + ":" + std::string(s); }

std::string stat_record(const struct stat& st) {
  return std::to_string(st.st_dev) + " " + std::to_string(st.st_ino) + " " + std::to_string(st.st_size) +
         " " + std::to_string(st.st_mtim.tv_sec) + "." + std::to_string(st.st_mtim.tv_nsec) + " " +
         std::to_string(st.st_ctim.tv_sec) + "." + std::to_string(st.st_ctim.tv_nsec);
}

bool settled(const struct stat& st, std::chrono::milliseconds settle) {
  const auto ns = [](const timespec& t) { return std::chrono::seconds(t.tv_sec) + std::chrono::nanoseconds(t.tv_nsec); };
  const auto newest = std::max(ns(st.st_mtim), ns(st.st_ctim));
  return std::chrono::system_clock::now().time_since_epoch() - newest > settle;
}

// The file fstatat described as `seen`: if it was replaced meanwhile, its digest would be
// remembered under the old file's stat record.
Result<std::string> hash_file(int dirfd, const char* name, const std::string& rel, const struct stat& seen) {
  sys::Fd fd(::openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (!fd) return fail(Error::from_errno("open " + rel));
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return fail(Error::from_errno("stat " + rel));
  if (st.st_ino != seen.st_ino || st.st_dev != seen.st_dev || !S_ISREG(st.st_mode))
    return fail(ErrorCode::unavailable, rel + " changed while it was read; try again");
  sys::Sha256 h;
  char buf[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return fail(Error::from_errno("read " + rel));
    if (n == 0) break;
    h.update(std::string_view(buf, static_cast<std::size_t>(n)));
  }
  return h.hex();
}

}  // namespace

Result<std::string> FileHashMemo::digest(int dirfd, const char* name, const std::string& rel,
                                         const struct stat& st) {
  if (static_cast<std::uint64_t>(st.st_size) < kMinSize) return hash_file(dirfd, name, rel, st);
  const std::string record = stat_record(st);
  sys::Sha256 id;
  id.update(std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino));
  const fs::path file = dir_ / id.hex();
  {
    std::lock_guard lock(mu_);
    if (auto it = known_.find(record); it != known_.end()) return it->second;
  }
  if (auto text = sys::read_file(file); text && text->size() > 65 && text->compare(0, record.size(), record) == 0 &&
                                        (*text)[record.size()] == ' ') {
    std::string digest = text->substr(record.size() + 1, 64);
    std::lock_guard lock(mu_);
    known_[record] = digest;
    return digest;
  }
  IGNITE_TRY_ASSIGN(std::string digest, hash_file(dirfd, name, rel, st));
  if (settled(st, settle_)) {
    std::lock_guard lock(mu_);
    known_[record] = digest;
    // Best effort: without the file the next process hashes again, nothing worse.
    if (sys::ensure_owned_dir(dir_, 0700)) {
      const fs::path tmp = file.string() + ".tmp" + std::to_string(::getpid());
      std::error_code ec;
      if (sys::write_new_file(tmp, record + " " + digest + "\n", 0600)) fs::rename(tmp, file, ec);
      if (ec) fs::remove(tmp, ec);
    }
  }
  return digest;
}

KeyBuilder::KeyBuilder(std::string_view purpose) { add("purpose", purpose); }

KeyBuilder& KeyBuilder::add(std::string_view name, std::string_view value) {
  material_ += framed(name) + framed(value);
  return *this;
}

Status KeyBuilder::add_tree(std::string_view name, const fs::path& dir, FileHashMemo& memo) {
  std::string tree;
  IGNITE_TRY(sys::walk_tree(dir, kInputLimits,
                            [&](const std::string& rel, int dirfd, const char* entry, const struct stat& st) -> Status {
                              if (S_ISDIR(st.st_mode)) {
                                tree += "d" + framed(rel);
                              } else if (S_ISLNK(st.st_mode)) {
                                char target[4096];
                                const ssize_t n = ::readlinkat(dirfd, entry, target, sizeof target);
                                if (n < 0) return fail(Error::from_errno("readlink " + rel));
                                tree += "l" + framed(rel) + framed(std::string_view(target, static_cast<std::size_t>(n)));
                              } else {
                                IGNITE_TRY_ASSIGN(std::string digest, memo.digest(dirfd, entry, rel, st));
                                tree += std::string((st.st_mode & 0111) ? "x" : "f") + framed(rel) + framed(digest);
                              }
                              return ok();
                            }));
  add(name, tree);
  return ok();
}

std::string KeyBuilder::finish() {
  sys::Sha256 h;
  h.update(material_);
  return h.hex();
}

}  // namespace ignite::engine
