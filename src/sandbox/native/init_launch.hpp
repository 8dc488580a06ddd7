// Starting a sandbox's init. The child of clone3 (with the run's namespaces, and on cgroup v2
// born in its cgroup) shares our memory, vfork-style, only until it executes ignite-sandbox-init
// (init_main.cpp), which reads its ChildArgs from a memfd and runs child_main.
//
// Why not a copy-on-write clone of the supervisor, as before: the init lives as long as the run,
// and for all that time every page of the supervisor it shared cost a copy-on-write fault, with
// a TLB shootdown across CPUs, the first time the supervisor wrote it. Under load that was half
// of the server's I/O threads' CPU (perf, ServerLoad test) and a quarter of `ignite exec`'s.
// Executing a small static program leaves nothing shared, copies no page table, and the
// init's memory holds this run's arguments only, never the supervisor's secrets.
#pragma once
#include <memory>
#include <vector>

#include "core/result.hpp"
#include "sandbox/native/child.hpp"
#include "sys/child_process.hpp"

namespace ignite::sandbox::native {

struct LaunchedInit {
  sys::ChildProcess init;
  bool into_cgroup = false;  // born in `cgroup_dir` (CLONE_INTO_CGROUP)
};

// `init_binary`: an fd (O_PATH is enough) of ignite-sandbox-init. `cgroup_dir` (v2, else -1):
// init is born in that cgroup; a kernel without CLONE_INTO_CGROUP (before 5.7) refuses the flag,
// init is then cloned without it and the caller moves it (into_cgroup false).
// Thread-safe: the calling thread waits (vfork) until the child has executed the program or
// died; other threads go on.
Result<LaunchedInit> launch_init(int init_binary, const ChildArgs& args, bool network, int cgroup_dir);

struct EarlyChildMemory;

// An init started before its run is known (launch_init_early). The child runs on memory of
// ours until its execve; the destructor frees it once the child no longer does.
class EarlyInit {
 public:
  EarlyInit(LaunchedInit launched, std::unique_ptr<EarlyChildMemory> memory);
  EarlyInit(EarlyInit&&) noexcept;
  EarlyInit& operator=(EarlyInit&&) = delete;
  ~EarlyInit();  // waits (bounded) until the child has executed or died

  LaunchedInit init;  // for the run that takes it; killed and reaped with us if still here

 private:
  std::unique_ptr<EarlyChildMemory> memory_;
};

// An init for a run that is not known yet (NativeConfig::spare_init): it executes
// ignite-sandbox-init, which waits for its ChildArgs on `args_fd` (a pipe's read end) until the
// run that takes it writes them and closes the pipe. Unlike launch_init, we do not wait for the
// child's execve (no CLONE_VFORK): it runs beside us, on memory of ours, with raw syscalls only,
// and makes its namespaces itself (unshare), all but the PID (and a user) namespace, on its own
// CPU. It always gets a network namespace of its own. `keep`: the fds it keeps across its
// execve, `args_fd` and every child-side fd that run's ChildArgs will name (same numbers).
Result<EarlyInit> launch_init_early(int init_binary, std::vector<int> keep, int args_fd, int report_fd,
                                    bool in_user_namespace, int cgroup_dir);

}  // namespace ignite::sandbox::native
