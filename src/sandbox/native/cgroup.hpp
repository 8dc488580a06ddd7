// Cgroup: the per-run control group (one dir on v2, one per controller on v1), RAII-owned.
#pragma once
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string_view>
#include <vector>

#include "core/memory_thrash.hpp"
#include "core/result.hpp"
#include "sandbox/native/cgroup_layout.hpp"
#include "sys/fd.hpp"

namespace ignite::sandbox::native {

struct CgroupLimits {
  std::uint64_t memory_max_bytes = 0;  // 0 = leave unset
  std::uint32_t pids_max = 0;
  double cpu_cores = 0;                // 0 = no quota
};

struct CgroupUsage {
  std::uint64_t memory_peak_bytes = 0;
  std::uint64_t cpu_usage_usec = 0;
  std::uint32_t pids_peak = 0;
  std::uint64_t memory_current_bytes = 0;
  bool oom_killed = false;  // the kernel's OOM killer fired inside this cgroup
};

// Kills and removes the per-run cgroups under the layout's parent(s) that `stale(name)` says
// belong to no live Ignite. Returns how many were removed.
std::size_t collect_stale_cgroups(const CgroupLayout& layout,
                                  const std::function<bool(std::string_view name)>& stale);

// The layout a backend makes its per-run cgroups in: detect_cgroups(proc), its per-run parent
// prepared (version none, with the reason, where that fails), and, when `stale` is set, what
// dead Ignites left there collected.
CgroupLayout ready_cgroups(const std::filesystem::path& proc,
                           const std::function<bool(std::string_view name)>& stale);

class Cgroup {
 public:
  // Creates `name` under the layout's per-run parent(s) and applies the limits.
  static Result<Cgroup> create(const CgroupLayout& layout, std::string_view name,
                               const CgroupLimits& limits);
  // Takes over an existing per-run cgroup `name` (what a dead Ignite left): destroying the
  // result kills its members and removes it. Empty when no such cgroup exists.
  static Cgroup adopt(const CgroupLayout& layout, std::string_view name);
  // Reads (and resets the peak of) the cgroup another manager made for process `pid` (docker's
  // for a container's init); destroying the result leaves it alone. Empty when it has none.
  static Cgroup observe(pid_t pid, const std::filesystem::path& proc = "/proc");

  bool empty() const noexcept { return dirs_.empty(); }

  Cgroup() = default;
  Cgroup(Cgroup&& other) noexcept;
  Cgroup& operator=(Cgroup&&) = delete;
  Cgroup(const Cgroup&) = delete;
  ~Cgroup();  // kills what is left, removes the directories; best effort, logged

  // How the sandbox's init joins without the supervisor moving it (add() below): on v1 the
  // `tasks` file of each hierarchy (init writes "0" to each, see join_cgroup in child.cpp); on
  // v2 the dir, for clone3's CLONE_INTO_CGROUP. Either way the kernel skips the lock whose
  // first taking in a while waits for an RCU grace period (5-20 ms on this machine).
  Result<std::vector<sys::Fd>> open_for_join() const;
  Status add(pid_t pid) const;  // moves a process in (every hierarchy on v1); the slow way
  // Counters that cannot be read stay 0. CPU time counts from `since` (begin_job's baseline).
  CgroupUsage usage(const CgroupUsage& since = {}) const;
  // A warm slot's hand-off: resets the memory peak to the current usage where the kernel can
  // (v1 memory.max_usage_in_bytes; v2 memory.peak, per open fd, from 6.12) and returns the
  // baseline that usage() subtracts (CPU time so far).
  CgroupUsage begin_job();
  void kill_all() const;        // SIGKILL every member (cgroup.kill on v2)
  // A thrash watch (core/memory_thrash.hpp) over this cgroup's memory counters, for the run's
  // lifetime (it reads the cgroup's files). None without a memory hierarchy or a limit (0).
  std::optional<ThrashWatch> thrash_watch(std::uint64_t memory_limit_bytes) const;
  // Sets the limits (zero fields are left alone): create() does, and a spare sandbox's cgroup,
  // made before its run's limits were known, gets them when the run takes it.
  Status apply(const CgroupLimits& limits) const;

 private:
  std::filesystem::path dir(std::string_view controller) const;

  CgroupVersion version_ = CgroupVersion::none;
  std::vector<std::pair<std::string, std::filesystem::path>> dirs_;  // controller ("" on v2) -> dir
  // v2: the memory.peak fd whose peak begin_job reset; reads through it see the job's peak only.
  int peak_fd_ = -1;
  bool owned_ = true;  // false: observe(); the destructor kills and removes nothing
};

}  // namespace ignite::sandbox::native
