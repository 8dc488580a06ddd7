#include "sandbox/native/container_cgroups.hpp"

#include <sched.h>
#include <sys/mount.h>

#include <cstdlib>
#include <string_view>

#include "sandbox/native/cgroup_layout.hpp"
#include "sys/files.hpp"

namespace ignite::sandbox::native {
namespace {

bool has_ro(const std::string& options) {
  return options == "ro" || options.rfind("ro,", 0) == 0 || options.find(",ro,") != std::string::npos ||
         (options.size() >= 3 && options.compare(options.size() - 3, 3, ",ro") == 0);
}

// The hierarchy's own options without the read-write flag: what selects the same hierarchy
// ("memory", "name=systemd") or the same cgroup2 behaviour ("nsdelegate") when mounted again.
std::string hierarchy_options(const std::string& super_options) {
  std::string out;
  std::size_t start = 0;
  while (start <= super_options.size()) {
    std::size_t end = super_options.find(',', start);
    if (end == std::string::npos) end = super_options.size();
    const std::string_view o(super_options.data() + start, end - start);
    if (!o.empty() && o != "rw" && o != "ro") out += (out.empty() ? "" : ",") + std::string(o);
    start = end + 1;
  }
  return out;
}

}  // namespace

Result<std::string> own_container_cgroups(const std::filesystem::path& proc) {
  const char* asked = std::getenv("IGNITE_IN_CONTAINER");
  if (asked == nullptr || std::string_view(asked) != "1") return std::string();
  IGNITE_TRY_ASSIGN(const std::string text, sys::read_file(proc / "self/mountinfo"));
  const std::vector<MountEntry> mounts = parse_mountinfo(text);
  bool read_only = false;
  for (const MountEntry& m : mounts) read_only |= has_ro(m.mount_options);
  if (!read_only) return std::string();

  if (::unshare(CLONE_NEWNS | CLONE_NEWCGROUP) != 0)
    return fail(Error::from_errno("cgroup namespace of our own (needs CAP_SYS_ADMIN; docs/deploy.md)"));
  // Nothing of ours propagates back to the container's mount table.
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
    return fail(Error::from_errno("make mounts private"));
  std::size_t done = 0;
  for (const MountEntry& m : mounts) {
    const std::string options = hierarchy_options(m.super_options);
    // The kernel refuses a superblock on top of itself (EBUSY): the old view goes first.
    if (::umount2(m.mountpoint.c_str(), MNT_DETACH) != 0)
      return fail(Error::from_errno("unmount the read-only " + m.mountpoint));
    if (::mount(m.fstype.c_str(), m.mountpoint.c_str(), m.fstype.c_str(), MS_NOSUID | MS_NODEV | MS_NOEXEC,
                options.empty() ? nullptr : options.c_str()) != 0)
      return fail(Error::from_errno("mount " + m.fstype + " (" + options + ") on " + m.mountpoint));
    ++done;
  }
  return "own cgroup namespace, " + std::to_string(done) + " hierarchies mounted writable";
}

}  // namespace ignite::sandbox::native
