// NativeSlot: one sandbox the native backend started (native_backend.cpp), run once.
#pragma once
#include <chrono>
#include <csignal>
#include <filesystem>
#include <optional>
#include <span>
#include <vector>

#include "core/spec.hpp"
#include "sandbox/backend.hpp"
#include "sandbox/native/cgroup.hpp"
#include "sandbox/native/child.hpp"
#include "sandbox/native/id_pool.hpp"
#include "sandbox/native/mount_plan.hpp"
#include "sys/child_process.hpp"
#include "sys/fd.hpp"
#include "sys/pipe.hpp"
#include "sys/temp_dir.hpp"

namespace ignite::sandbox::native {

// The pipes of one sandbox; the child-side ends are closed in the parent right after clone.
struct RunPipes {
  sys::Pipe sync, report, exec, in, out, err;
  sys::Fd notify_parent, notify_child;      // seccomp listener hand-over (SCM_RIGHTS)
  sys::Fd handover_parent, handover_child;  // init's output dir and egress listener
};

// The notify and handover socket pairs only when asked for (the seccomp filter's listener; a
// run with an output dir or egress).
Result<RunPipes> make_run_pipes(bool notify, bool handover);

// Names in `args` the child-side ends of `pipes` and, on cgroup v1, the run's `tasks` fds (what
// init inherits with the same numbers). Fails when there are more hierarchies than ChildArgs has
// room for.
Status name_child_fds(ChildArgs& args, const RunPipes& pipes, std::span<const sys::Fd> v1_cgroup_fds);

// Everything start() made but the process. Members are destroyed in reverse order: the cgroup
// (kills stragglers, waits until empty), the scratch dir, and only then the uid lease, when no
// process of that uid is left.
struct SlotParts {
  std::optional<IdPool::Lease> id;
  std::optional<sys::TempDir> scratch;
  std::vector<std::filesystem::path> drop_hosts;  // host dirs behind spec.drop_dirs, same order
  MountPlan plan;
  std::optional<Cgroup> cgroup;
  RunPipes pipes;
  SandboxSpec spec;  // without stdin_data
  std::chrono::steady_clock::time_point started;
  bool in_user_namespace = false;
  bool private_inodes = true;
  bool released = false;  // the sync pipe let init go (warm slots: at start)
  // init was not born in the cgroup and does not move itself (v2 on a kernel without
  // CLONE_INTO_CGROUP): join() moves it.
  bool parent_joins_cgroup = false;
};

class NativeSlot final : public Slot {
 public:
  NativeSlot(SlotParts parts, sys::ChildProcess init) : p_(std::move(parts)), init_(std::move(init)) {}

  // Moves init into the cgroup if it did not get there itself (SlotParts::parent_joins_cgroup)
  // and writes a rootless run's id maps: before release, so nothing of the sandbox ever runs
  // outside its limits.
  Status join();
  // Warm slots: releases init and waits until the bootstrap writes kReadyMarker.
  Status warm_up(std::chrono::milliseconds timeout);

  Result<ExecutionResult> run(Job job, std::stop_token stop, const OutputSink& sink) override;
  // SIGKILL to init (the whole PID namespace dies with it) without waiting for it: the
  // destructor reaps it and removes the rest (NativeConfig::late_teardown).
  void kill() { (void)init_.send_signal(SIGKILL); }
  // Whether the sandbox reaches the host: a writable mount, or the host's network.
  bool reaches_host() const;
  std::uint64_t resident_bytes() const override { return resident_; }

 private:
  Status release();
  // Kills and reaps init; the error its report names when its setup failed.
  std::optional<Error> setup_failure();

  SlotParts p_;
  sys::ChildProcess init_;  // destroyed first: SIGKILL + reap, the whole PID namespace dies with it
  bool used_ = false;
  std::uint64_t resident_ = 0;
};

}  // namespace ignite::sandbox::native
