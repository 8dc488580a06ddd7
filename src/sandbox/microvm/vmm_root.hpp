// The jailed VMM's root (the jailer's chroot, done with pivot_root in the VMM's own mount
// namespace): a read-only tmpfs holding only what a VMM process needs to start and run — the
// system's program and library dirs (/usr and the /bin, /lib… links or dirs), the loader's
// cache, the device nodes it opens, a /proc that shows its own processes only, and its VM's dir
// at its own path (writable: its sockets and console log; the share mounted in it). Not /etc,
// /home, /root, /var, /run, /tmp or anything else of the host: a VMM a guest took over reads no
// host file beyond those. Planned before the fork (paths, links read), taken after it with
// system calls only.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

namespace ignite::sandbox::microvm {

struct RootStep {
  enum class Kind { dir, file, link, bind_ro, bind_dev, bind_vm_dir, proc } kind;
  std::string source;  // bind: the host path; link: its text
  std::string target;  // under the new root
};

struct VmmRoot {
  std::string root;     // <vm_dir>/root: the tmpfs, then "/"
  std::string vm_dir;   // the VMM's cwd, at the same path inside
  std::vector<RootStep> steps;
};

struct VmmNeeds {
  std::filesystem::path binary;  // the VMM's executable (bound at its real path when outside /usr)
  std::filesystem::path share;   // its 9p share dir (inside vm_dir; bound with its mounts); empty: none
  bool kvm = false;              // /dev/kvm
};

// `host`: where the host's files are looked at (tests give another tree).
VmmRoot plan_vmm_root(const std::filesystem::path& vm_dir, const VmmNeeds& needs,
                      const std::filesystem::path& host = "/");

// In the child, after its mount namespace is private and before it drops privileges: builds the
// root and moves into it (cwd: the VM's dir). 0, or -1 with errno and `failed` naming the step.
int enter_vmm_root(const VmmRoot& root, const char*& failed) noexcept;

}  // namespace ignite::sandbox::microvm
