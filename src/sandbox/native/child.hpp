// The sandbox's init (PID 1 of its PID namespace), run by ignite-sandbox-init (init_main.cpp)
// from ChildArgs the supervisor sent it (child_wire.hpp). Failures are reported as
// {stage, errno} over a CLOEXEC pipe. C headers only: the init is built against musl without a
// C++ library (src/sandbox/native/CMakeLists.txt says why).
#pragma once
#include <linux/filter.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <stdint.h>

#include "sandbox/native/mount_step.hpp"

namespace ignite::sandbox::native {

enum class ChildStage : int32_t {
  finished = 0,  // not a failure: `status` holds the program's wait status
  sync,
  hostname,
  mount_private,
  mount_op,      // `detail` is the index of the failed MountOp
  pivot_root,
  remount_root,
  chdir,
  identity,
  capabilities,
  no_new_privs,
  fork,
  rlimit,
  stdio,
  signals,
  seccomp,
  exec,
  hide_supervisor,  // PR_SET_DUMPABLE in init
  seccomp_listener, // handing the seccomp listener to the supervisor
  export_dir,       // handing the output dir (an O_PATH fd) to the supervisor
  egress,           // bringing up loopback and the egress proxy's listening socket
  cgroup,           // init moving itself into the run's cgroup (cgroup v1 `tasks`)
  start_init,       // executing ignite-sandbox-init, or it reading its arguments
};

// What the sandbox's init writes to the report pipe (one or more records).
struct ChildReport {
  ChildStage stage = ChildStage::finished;
  int32_t err = 0;     // errno
  int32_t detail = 0;  // mount op index, for mount_op
  int32_t status = 0;  // wait status of the program, for finished
  int64_t cpu_usec = 0;  // the program's rusage (user+system), for finished
  int64_t maxrss_kb = 0;  // the program's peak RSS (rusage), for finished: the degraded
                          // mode's memory measurement when there is no cgroup
};

struct RlimitSetting {
  int resource;
  rlim_t value;
};

struct MountPlan;

// Everything the child needs, prepared by the parent; the child only reads it.
struct ChildArgs {
  // The root to assemble: the supervisor encodes `plan` (child_wire.hpp); the init, which has no
  // MountPlan (it holds std::strings), gets the same steps decoded as `root` and `steps`.
  const MountPlan* plan = nullptr;
  const char* root = nullptr;
  const MountStep* steps = nullptr;
  uint32_t step_count = 0;
  const char* workdir = nullptr;
  char* const* argv = nullptr;
  char* const* envp = nullptr;
  const sock_fprog* seccomp = nullptr;
  bool seccomp_listener = false;  // load with NEW_LISTENER and send the fd over notify_fd
  const RlimitSetting* rlimits = nullptr;
  int rlimit_count = 0;
  uid_t uid = 0;
  gid_t gid = 0;
  bool in_user_namespace = false;  // ids are already mapped; skip setuid, drop caps only
  int sync_fd = -1;    // read: the parent releases us (id maps written)
  // cgroup v1: the run's `tasks` file in each hierarchy (opened by the parent), where init
  // writes "0" to move itself in before it reads sync_fd. -1: none (v2 clones straight into
  // the cgroup, CLONE_INTO_CGROUP; without cgroups there is none).
  int cgroup_fds[4] = {-1, -1, -1, -1};
  int report_fd = -1;  // write: ChildReport records
  int exec_fd = -1;    // write end held only by the program until execve closes it (CLOEXEC)
  int stdin_fd = -1;
  int stdout_fd = -1;
  int stderr_fd = -1;
  int notify_fd = -1;  // unix socket: the program sends its seccomp listener fd (SCM_RIGHTS)
  // Unix socket on which init hands the supervisor, in this order: an O_PATH fd of
  // `export_path` (the output dir, which outlives the sandbox through it), then the listening
  // socket of the egress proxy at 127.0.0.1:`egress_port` in the sandbox's network namespace.
  int handover_fd = -1;
  const char* export_path = nullptr;  // absolute, inside the new root; nullptr: none
  uint16_t egress_port = 0;           // 0: no egress proxy
};

// The init's work, as PID 1 of the new PID namespace: builds the root, drops privileges, starts
// the program and reaps until it exits. Never returns.
[[noreturn]] void child_main(const ChildArgs& args) noexcept;

// Every signal's disposition back to the default. A disposition set to "ignore" survives
// execve (the supervisor ignores SIGPIPE), and the program inherits init's: init calls this
// first thing, before it waits for its arguments (a spare's wait is off the run's path), and
// sets none itself afterwards.
void reset_signal_dispositions() noexcept;

}  // namespace ignite::sandbox::native
