// FileTree: a tree of files as data (what a run left in its output dir, a cache entry's
// manifest). Paths are relative and '/'-separated; nothing here touches the file system.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace ignite {

enum class EntryKind { file, dir, symlink };

struct FileEntry {
  EntryKind kind = EntryKind::file;
  std::string path;         // relative, in walk order (names sorted per dir)
  std::uint64_t size = 0;   // files
  bool executable = false;  // files: any x bit was set
  std::string digest;       // files: sha256 hex of the content
  std::string link;         // symlinks: the target text, never resolved by the host
  friend bool operator==(const FileEntry&, const FileEntry&) = default;
};

struct FileTree {
  std::vector<FileEntry> entries;
  std::uint64_t bytes = 0;  // sum of file sizes
  friend bool operator==(const FileTree&, const FileTree&) = default;
};

}  // namespace ignite
