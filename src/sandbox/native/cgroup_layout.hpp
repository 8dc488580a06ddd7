// CgroupLayout: which cgroup hierarchy (v2, v1 or none) this host offers us, detected at start-up.
#pragma once
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace ignite::sandbox::native {

enum class CgroupVersion { none, v1, v2 };

// A cgroup (v1) or cgroup2 mount of /proc/<pid>/mountinfo.
struct MountEntry {
  std::string root;        // the path inside the hierarchy that is mounted
  std::string mountpoint;
  std::string fstype;
  std::string super_options;  // the hierarchy's: "rw,memory", "rw,nsdelegate"
  std::string mount_options;  // this mount's: "ro,nosuid,nodev,noexec,relatime"
};
std::vector<MountEntry> parse_mountinfo(const std::string& text);

struct CgroupLayout {
  CgroupVersion version = CgroupVersion::none;
  // v2: the directory under which per-run cgroups are created (memory, pids, cpu enabled).
  std::filesystem::path v2_base;
  // v1: controller ("memory", "pids", "cpu", "cpuacct") -> directory for per-run cgroups.
  std::map<std::string, std::filesystem::path> v1_base;
  std::string reason;  // why this version was chosen, or why none is usable

  std::string describe() const;  // "cgroup v1 (memory, pids, cpu, cpuacct)"
};

// Reads <proc>/self/mountinfo and <proc>/self/cgroup and picks v2 when its unified hierarchy
// offers memory and pids, else v1 when memory and pids are mounted, else none. The per-run
// parent is "<our own cgroup>/ignite". Never fails: an unusable host yields version none.
CgroupLayout detect_cgroups(const std::filesystem::path& proc = "/proc");

// The cgroup directories of another process (a container's init): on v1 controller -> dir for
// memory, pids, cpu and cpuacct; on v2 one dir under "". Version none when it has none of them.
struct ProcessCgroups {
  CgroupVersion version = CgroupVersion::none;
  std::vector<std::pair<std::string, std::filesystem::path>> dirs;
};
ProcessCgroups cgroups_of(int pid, const std::filesystem::path& proc = "/proc");

// Creates the per-run parent directories (and on v2 enables the controllers for children).
// Fails with permission_denied/unsupported when the hierarchy is not delegated to us.
Status prepare_cgroup_parent(CgroupLayout& layout);

}  // namespace ignite::sandbox::native
