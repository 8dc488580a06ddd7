// MountPlan: the sandbox's root filesystem as a list of steps, computed in the parent as plain
// data (testable without privileges) and executed verbatim by the child.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "core/spec.hpp"
#include "sandbox/native/mount_step.hpp"

namespace ignite::sandbox::native {

struct MountOp {
  MountOp() = default;
  MountOp(OpKind k, std::string src, std::string tgt, std::string d = {})
      : kind(k), source(std::move(src)), target(std::move(tgt)), data(std::move(d)) {}

  OpKind kind = OpKind::mkdir;
  std::string source;  // host path (bind), link text (symlink)
  std::string target;  // absolute host path under the new root
  std::string data;    // tmpfs options or file contents
  bool writable = false;
  bool optional = false;  // skip when the target/source does not exist (e.g. /proc/kcore)
  bool is_dir = false;    // for mask: the target is a directory
  bool executable = false;  // for write_file: mode 0755
};

// The step as the executing side takes it (mount_ops.hpp): views into `op`, which must outlive it.
inline MountStep step_of(const MountOp& op) noexcept {
  return {op.kind,     op.source.c_str(), op.target.c_str(), op.data.data(), op.data.size(),
          op.writable, op.optional,       op.is_dir,         op.executable};
}

struct MountPlan {
  std::string root;  // where the new root is assembled before pivot_root
  std::vector<MountOp> ops;
};

struct SandboxIdentity {
  unsigned uid = 60000;  // unprivileged ids the program runs as (no host account uses them)
  unsigned gid = 60000;
};

// Builds the plan for `spec` with the new root assembled at `root`. Stats the host sources
// (to tell files from directories) and fails with invalid_argument when one is missing.
//
// With `private_inodes`, every read-only mount is a read-only overlayfs of its source instead of
// a bind (a file: bound from an overlay of its directory, assembled beside `root`). Security:
// each overlay has inodes of its own, so two concurrent runs never share one — flock(2) on a
// runtime file cannot block another run, and inotify cannot watch another run's imports.
//
// A read-only overlay needs a second, empty layer. `shared_empty` (optional, see
// NativeConfig::shared_empty) is used for sources on its filesystem, the run's own `empty`
// beside the root for the others: an overlay whose layers are on two filesystems reports
// inode numbers of its own, and node touched ~400 more pages at start through one.
Result<MountPlan> build_mount_plan(const SandboxSpec& spec, const std::filesystem::path& root,
                                   const SandboxIdentity& id, bool private_inodes = false,
                                   const std::filesystem::path& shared_empty = {});

}  // namespace ignite::sandbox::native
