// The native backend: Linux namespaces + cgroups + seccomp + rlimits + pivot_root, no daemon.
#pragma once
#include <filesystem>
#include <functional>
#include <string_view>
#include <memory>

#include "core/result.hpp"
#include "core/spec.hpp"
#include "sandbox/backend.hpp"
#include "sandbox/native/cgroup_layout.hpp"
#include "sandbox/native/child.hpp"
#include "sandbox/native/mount_plan.hpp"

namespace ignite::sandbox::native {

struct NativeConfig {
  // Per-run dirs (mount points only) live here: the instance's own private dir (sys::Instance).
  std::filesystem::path scratch_root = "/run/ignite";
  std::filesystem::path proc = "/proc";                // where cgroups are detected from
  // Per-run cgroups are named "<run_prefix>run-XXXXXX" (the instance's tag, "<id>.").
  std::string run_prefix;
  // At start-up, per-run cgroups for which this says true (left by an Ignite that was killed)
  // are killed and removed. Unset: nothing is collected.
  std::function<bool(std::string_view cgroup_name)> stale_run;
  // As root, each concurrent run gets its own uid (= gid) from [first_id, first_id + id_count),
  // claimed across processes through lock files in id_lock_dir (see id_pool.hpp).
  unsigned first_id = 60000;
  unsigned id_count = 1000;
  std::filesystem::path id_lock_dir = "/run/ignite/ids";
  // Read-only mounts as per-run overlays, so concurrent runs share no inode (mount_plan.hpp).
  // Turned off (with a degradation on every result) when the kernel has no overlayfs.
  bool private_inodes = true;
  // An empty dir of ours on the host's main filesystem, the second layer of the overlays of
  // sources on that filesystem (mount_plan.hpp). Checked at start: one that is not an empty
  // dir of ours is not used. Empty: every overlay uses the run's own empty dir.
  std::filesystem::path shared_empty;
  Limits ceilings = kBackendCeilings;
  // Without a usable cgroup hierarchy, memory/pids/CPU limits cannot be enforced. Refuse
  // unless the operator explicitly accepts rlimit-only enforcement.
  bool allow_degraded = false;
  // ignite-sandbox-init, which every run's init executes. Empty: $IGNITE_SANDBOX_INIT, else next
  // to the running executable.
  std::filesystem::path init_binary;
  // Start one sandbox's init at construction, before any run is known (init_launch.hpp's
  // launch_init_early), for the first run that fits it: a one-shot command (`ignite exec`)
  // overlaps the init's namespaces and execve with resolving its runtime and staging its files.
  // A spare nobody takes is removed with the backend.
  bool spare_init = false;
  // For one-shot commands too: a cold run's slot is killed when the run ends and reaped (its
  // cgroup, scratch dir and uid released) at the next run's end or with the backend, so that
  // the command reports its result while the kernel tears the sandbox's namespaces down (~1-2
  // ms here). Not a run that reaches the host, through a writable mount (a build step's output
  // dir, which what comes next reads) or the host's network: a process the program left behind
  // lives until init's exit has killed it, and must by then have nothing of the host to touch.
  bool late_teardown = false;
};

// Whether this kernel has overlayfs (<proc>/filesystems): read-only mounts are per-run overlays
// then (NativeConfig::private_inodes).
bool kernel_has_overlayfs(const std::filesystem::path& proc = "/proc");

// The rlimits of a sandboxed program (any backend that starts it with our init).
std::vector<RlimitSetting> sandbox_rlimits(const Limits& limits, bool have_cgroup);

// Detects cgroups, prepares the per-run parent and compiles the seccomp filter, once.
// Fails with unsupported/permission_denied when the host cannot enforce the limits.
Result<std::unique_ptr<Backend>> make_native_backend(NativeConfig config);

}  // namespace ignite::sandbox::native
