// The bounds of a tree that came out of a sandbox, and the words a tree is refused in: one
// budget, kept by every walk in sys/tree.cpp, by the microvm guest agent as it streams its
// /out, and by the microvm host as it receives that stream, so a tree is refused for the same
// reasons in the same words wherever it is read. Pure logic (no I/O): the static agent links it.
#pragma once
#include <sys/stat.h>

#include <cstdint>
#include <string>

#include "core/result.hpp"

namespace ignite::sys {

struct TreeLimits {
  std::uint64_t max_bytes = 1ull << 30;
  std::uint32_t max_entries = 100000;
  std::uint32_t max_depth = 64;
};

class TreeBudget {
 public:
  explicit TreeBudget(const TreeLimits& limits) : limits_(limits) {}

  // One more entry `rel` (its type in `mode`'s S_IFMT bits) in a dir `depth` dirs below the
  // root (0: the root's own entries). invalid_argument naming `rel` once there are more than
  // max_entries, for a dir nested deeper than max_depth, and for anything but a regular file,
  // a directory or a symlink (a FIFO, a socket, a device).
  Status entry(const std::string& rel, mode_t mode, std::uint32_t depth);
  // `n` more bytes of the file `rel`: invalid_argument once the tree holds more than max_bytes.
  Status bytes(const std::string& rel, std::uint64_t n);

  std::uint32_t entries() const noexcept { return entries_; }
  std::uint64_t total() const noexcept { return total_; }
  // How many more names a dir may hold before entry() refuses (one more is enough to know).
  std::uint32_t entries_left() const noexcept {
    return limits_.max_entries >= entries_ ? limits_.max_entries - entries_ : 0;
  }
  const TreeLimits& limits() const noexcept { return limits_; }

 private:
  TreeLimits limits_;
  std::uint32_t entries_ = 0;
  std::uint64_t total_ = 0;
};

// "<rel>: <why>" as invalid_argument ("." for the root).
Unexpected tree_refusal(const std::string& rel, const std::string& why);

}  // namespace ignite::sys
