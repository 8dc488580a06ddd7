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

// The file fstatat described as `seen` (replaced meanwhile: its digest would be remembered under
// the old file's stat record, so that is an error); copied to `dest` when given.
Result<std::string> hash_file(int dirfd, const char* name, const std::string& rel, const struct stat& seen,
                              const fs::path& dest = {}) {
  sys::Fd out;
  if (!dest.empty()) {
    out.reset(::open(dest.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!out) return fail(Error::from_errno("create snapshot of " + rel));
  }
  auto digest = sys::read_hashed(dirfd, name, rel, seen, out.get());
  if (!digest && digest.error().sys_errno == 0)
    return fail(ErrorCode::unavailable, rel + " changed while it was read; try again");
  if (digest && out && ::fchmod(out.get(), (seen.st_mode & 0111) ? 0755 : 0644) != 0)
    return fail(Error::from_errno("chmod " + rel));
  return digest;
}

}  // namespace


Status Snapshot::unchanged() const {
  for (const auto& b : bound) {
    struct stat now {};
    if (::lstat(b.source.c_str(), &now) != 0 || stat_record(now) != stat_record(b.seen))
      return fail(ErrorCode::unavailable, "the service's " + b.rel + " changed while it was built; try again");
  }
  return ok();
}

bool FileHashMemo::settled(const struct stat& st) const { return engine::settled(st, settle_); }

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
  if (engine::settled(st, settle_)) {
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

Status KeyBuilder::add_tree(std::string_view name, const fs::path& dir, FileHashMemo& memo, Snapshot* snapshot) {
  std::string tree;
  auto copy_of = [&](const std::string& rel) { return snapshot->dest / rel; };
  IGNITE_TRY(sys::walk_tree(dir, kInputLimits,
                            [&](const std::string& rel, int dirfd, const char* entry, const struct stat& st) -> Status {
                              if (S_ISDIR(st.st_mode)) {
                                tree += "d" + framed(rel);
                                if (snapshot && ::mkdir(copy_of(rel).c_str(), 0755) != 0)
                                  return fail(Error::from_errno("snapshot " + rel));
                                return ok();
                              }
                              if (S_ISLNK(st.st_mode)) {
                                char target[4096];
                                const ssize_t n = ::readlinkat(dirfd, entry, target, sizeof target);
                                if (n < 0 || static_cast<std::size_t>(n) == sizeof target)
                                  return fail(Error::from_errno("readlink " + rel));
                                const std::string text(target, static_cast<std::size_t>(n));
                                tree += "l" + framed(rel) + framed(text);
                                if (snapshot && ::symlink(text.c_str(), copy_of(rel).c_str()) != 0)
                                  return fail(Error::from_errno("snapshot " + rel));
                                return ok();
                              }
                              std::string digest;
                              const bool bind = snapshot && static_cast<std::uint64_t>(st.st_size) >= Snapshot::kBindMin &&
                                                memo.settled(st);
                              if (!snapshot || bind) {
                                IGNITE_TRY_ASSIGN(digest, memo.digest(dirfd, entry, rel, st));
                              } else {
                                IGNITE_TRY_ASSIGN(digest, hash_file(dirfd, entry, rel, st, copy_of(rel)));
                              }
                              if (bind) {
                                // A mount point in the copy; the live file is bound onto it.
                                if (!sys::write_new_file(copy_of(rel), "", 0644)) return fail(Error::from_errno("snapshot " + rel));
                                snapshot->bound.push_back({rel, dir / rel, st});
                              }
                              tree += std::string((st.st_mode & 0111) ? "x" : "f") + framed(rel) + framed(digest);
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
