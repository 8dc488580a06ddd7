// One step of a mount plan as the code that executes it sees it: plain C data, no C++ library,
// because ignite-sandbox-init is built without one (against musl, see its CMakeLists entry). The
// plan itself (MountOp, MountPlan) is built by the supervisor in mount_plan.hpp.
#pragma once
#include <stddef.h>

namespace ignite::sandbox::native {

enum class OpKind {
  mkdir,       // target directory (EEXIST is fine)
  mkfile,      // empty regular file as a mount point
  symlink,     // target -> source
  write_file,  // target gets `data`
  bind,        // bind source onto target; read-only unless `writable`
  tmpfs,       // tmpfs on target with options `data`
  proc,        // fresh procfs on target (needs the new PID namespace)
  mask,        // hide target: /dev/null over a file; over a directory an empty read-only tmpfs,
               // or a bind of `source` when set (that tmpfs, mounted once beside the root)
  remount_ro,  // make an existing mount (target) read-only, e.g. /proc/sys
  overlay,     // read-only overlayfs on target with options `data` (lowerdir=...)
};

struct MountStep {
  OpKind kind = OpKind::mkdir;
  const char* source = "";  // host path (bind), link text (symlink); NUL-terminated
  const char* target = "";  // absolute host path under the new root; NUL-terminated
  const char* data = "";    // tmpfs or overlay options (NUL-terminated), or file contents
  size_t data_size = 0;     // of `data`, which may hold NUL bytes (write_file)
  bool writable = false;
  bool optional = false;
  bool is_dir = false;
  bool executable = false;
};

}  // namespace ignite::sandbox::native
