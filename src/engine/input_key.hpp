// Cache keys for build steps: every input a step can read, framed unambiguously.
//
// Security: a key that misses an input lets one tenant's artifact serve another tenant whose
// inputs differ only there (finding: a QuickJS bundle inlined node_modules the key skipped).
// So the key covers every entry of every tree the step sees (node_modules, hidden files and
// symlinks included: a link's target text, since it is resolved inside the sandbox), and each
// field is length-prefixed, so no two different input sets encode alike.
#pragma once
#include <sys/stat.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/framed.hpp"
#include "core/result.hpp"

namespace ignite::engine {

// Content digests of big files, remembered by (device, inode, size, mtime, ctime) in memory and
// under <dir> (one small file each), so an unchanged 1 GiB data file is read once, not on every
// run. ctime cannot be set by users, so a changed file never matches an old record; files
// changed within the last seconds are not remembered (their timestamps may not move yet).
class FileHashMemo {
 public:
  static constexpr std::uint64_t kMinSize = 1 << 20;  // smaller files are simply hashed
  // `settle`: a file whose mtime or ctime is more recent than this is hashed, not remembered (a
  // write within the clock's granularity would leave both as they are).
  explicit FileHashMemo(std::filesystem::path dir,
                        std::chrono::milliseconds settle = std::chrono::seconds(2))
      : dir_(std::move(dir)), settle_(settle) {}

  // sha256 hex of the regular file `name` in `dirfd`, which fstatat described as `st`.
  Result<std::string> digest(int dirfd, const char* name, const std::string& rel, const struct stat& st);
  // Whether `st` is old enough that any later write to the file must change its ctime.
  bool settled(const struct stat& st) const;

 private:
  std::filesystem::path dir_;
  std::chrono::milliseconds settle_;
  std::mutex mu_;
  std::map<std::string, std::string> known_;  // stat record -> digest
};

// A private copy of a service tree that a build step reads instead of the live one, so that what
// it builds is exactly what the key says (a tenant rewriting files during the build would
// otherwise get its build stored under another content's key). Files of at least kBindMin
// whose timestamps settled are not copied but bound from the live tree, and checked afterwards
// to be the same file, unwritten (their ctime would have moved).
struct Snapshot {
  static constexpr std::uint64_t kBindMin = 16ull << 20;
  struct Bound {
    std::string rel;                 // relative path in the tree
    std::filesystem::path source;    // the live file
    struct stat seen {};
  };
  std::filesystem::path dest;  // an existing, empty dir of ours
  std::vector<Bound> bound;
  // unavailable naming the file when a bound file changed since it was hashed.
  Status unchanged() const;
};


class KeyBuilder {
 public:
  explicit KeyBuilder(std::string_view purpose);  // "go", "ts", "deps": keys never cross kinds
  KeyBuilder& add(std::string_view name, std::string_view value);
  // Every entry under `dir`: kind, relative path, and content digest (files) or target (links).
  // With `snapshot`, also copies the tree into snapshot->dest, hashing what it copies.
  Status add_tree(std::string_view name, const std::filesystem::path& dir, FileHashMemo& memo,
                  Snapshot* snapshot = nullptr);
  std::string finish();  // sha256 hex of everything added

 private:
  std::string material_;
};

}  // namespace ignite::engine
