// A spare sandbox init (NativeConfig::spare_init): one sandbox begun before its run is known, so
// that a one-shot command (`ignite exec`) has the init make its namespaces and run its execve
// on the other CPU while it resolves the runtime and stages the files, instead of after. It
// holds what start() makes that does not depend on the run: the scratch dir, the cgroup (no
// limits yet), the pipes, and an init that executes ignite-sandbox-init and then waits for its
// ChildArgs on a pipe (init_launch.hpp, launch_init_early).
#pragma once
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "sandbox/native/cgroup.hpp"
#include "sandbox/native/cgroup_layout.hpp"
#include "sandbox/native/child.hpp"
#include "sandbox/native/init_launch.hpp"
#include "sandbox/native/native_slot.hpp"
#include "sys/fd.hpp"
#include "sys/temp_dir.hpp"

namespace ignite::sandbox::native {

// Members go in reverse order: init is killed and reaped first, the cgroup goes last. (The
// scratch dir is SpareStarter's until a run takes it.)
struct SpareInit {
  std::optional<Cgroup> cgroup;
  std::vector<sys::Fd> join_fds;  // Cgroup::open_for_join: v1's `tasks` (init holds the same
                                  // numbers) or v2's dir (init was cloned into it)
  RunPipes pipes;                 // both ends: the child-side numbers go into the run's ChildArgs
  sys::Fd args;                   // the run's encoded ChildArgs go here, then EOF
  std::optional<EarlyInit> init;
};

// What a spare is made of: the backend's own settings.
struct SpareRecipe {
  std::filesystem::path scratch_root;
  const CgroupLayout* layout = nullptr;  // the backend's, which outlives the starter
  std::string run_prefix;                // the cgroup is named run_cgroup_name(run_prefix, scratch)
  bool notify = false;                   // the seccomp filter hands a listener over (RunPipes::notify_*)
  int init_binary = -1;                  // ignite-sandbox-init, O_PATH; outlives the starter
};

// The per-run cgroup's name: the instance's prefix and the scratch dir's name.
std::string run_cgroup_name(const std::string& run_prefix, const sys::TempDir& scratch);

// Starts the spare at construction (on the calling thread: init's PR_SET_PDEATHSIG names the
// thread that cloned it, so that must be a thread that outlives the runs, as for any start()).
// A spare nobody takes is destroyed with the starter: init killed, cgroup and dir removed.
class SpareStarter {
 public:
  explicit SpareStarter(const SpareRecipe& recipe);

  // A run takes the spare in two steps, so that it can build its mount plan (under the scratch
  // dir) first. The scratch dir, for the first run that fits: one without the host's network
  // (the spare's init has a network namespace of its own). nullopt when there is no spare, it
  // was taken or it does not fit.
  std::optional<sys::TempDir> take_scratch(bool host_network);
  // Then, once the scratch was taken, the rest. nullopt when it failed to start (logged; the
  // run starts its own init in that scratch dir).
  std::optional<SpareInit> take_init();

 private:
  std::mutex mu_;
  std::optional<sys::TempDir> scratch_;
  std::optional<Result<SpareInit>> started_;
};

// Hands the spare's init the run's arguments (and EOF) and returns the init. A failed write means
// init is gone; its report says why, and release() finds it there as for any init that failed.
LaunchedInit hand_arguments(SpareInit& spare, const ChildArgs& args);

}  // namespace ignite::sandbox::native
