// Trees of files that came out of a sandbox (build artifacts, a program's /out): walked through
// directory fds without ever following a symlink, bounded in size, entries and depth, and
// copied into host dirs as plain read-only data.
#pragma once
#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "core/file_tree.hpp"
#include "core/result.hpp"
#include "sys/tree_budget.hpp"

namespace ignite::sys {

// The tree types are core's (core/file_tree.hpp): results and manifests carry them.
using TreeEntry = FileEntry;
using TreeManifest = FileTree;

// TreeLimits and the refusals: sys/tree_budget.hpp (shared with the microvm guest agent).

// Calls `visit` for every entry under `dir` (dirs before their entries, names sorted), never
// following symlinks. Devices, FIFOs and sockets, and going over max_entries or max_depth, fail
// with invalid_argument naming the entry (max_bytes is not checked here).
using TreeVisitor =
    std::function<Status(const std::string& rel, int dirfd, const char* name, const struct stat& st)>;
Status walk_tree(const std::filesystem::path& dir, const TreeLimits& limits, const TreeVisitor& visit);

// The sha256 hex of the regular file `name` in `dirfd` — the one fstatat described as `seen`
// (anything else there now is invalid_argument: it changed) — also written to `out` if >= 0.
Result<std::string> read_hashed(int dirfd, const char* name, const std::string& rel, const struct stat& seen,
                                int out = -1);

// Copies the tree under `src` (a directory fd, possibly O_PATH; e.g. the /out of a sandbox that
// has ended) into `dest` (an existing, empty dir of ours). Regular files become 0444 (0555 if
// any x bit was set), directories 0555, symlinks are recreated with the same target text; the
// copies are owned by us and carry no setuid/setgid/sticky bits. Devices, FIFOs and sockets,
// and going over a limit, fail with invalid_argument naming the entry (what was copied so far
// stays in `dest` for the caller to remove).
Result<TreeManifest> copy_tree_out(int src, const std::filesystem::path& dest, const TreeLimits& limits);

// Reads the tree at `dir` (never following symlinks) and hashes every file: what copy_tree_out
// returned for it, if nothing has changed since.
Result<TreeManifest> scan_tree(const std::filesystem::path& dir, const TreeLimits& limits);

// A digest of every entry's name, type, mode, size, inode, mtime and ctime, without reading
// content: equal signatures mean nothing was written, replaced or chmodded since (ctime cannot
// be set back by anyone but the kernel).
Result<std::string> stat_signature(const std::filesystem::path& dir, const TreeLimits& limits);

// Removes `path` and everything under it without following symlinks, making read-only dirs
// writable first (needed when we are not root: copy_tree_out leaves dirs 0555).
Status remove_tree(const std::filesystem::path& path);

}  // namespace ignite::sys
