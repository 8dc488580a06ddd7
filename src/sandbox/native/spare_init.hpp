// A spare sandbox init (NativeConfig::spare_init): one sandbox begun before its run is known, so
// that a one-shot command (`ignite exec`) makes the init's namespaces and runs its execve while
// it resolves the runtime and stages the files, instead of after. It holds what start() makes
// that does not depend on the run: the scratch dir, the cgroup (no limits yet), the pipes, and
// an init that has executed ignite-sandbox-init and waits for its ChildArgs on a pipe.
#pragma once
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
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
  std::vector<sys::Fd> join_fds;  // v1 (Cgroup::open_for_join); init holds the same numbers
  int cgroup_dir = -1;            // v2: what init was cloned into (one of join_fds)
  RunPipes pipes;                 // both ends: the child-side numbers go into the run's ChildArgs
  sys::Fd args;                   // the run's encoded ChildArgs go here, then EOF
  std::optional<LaunchedInit> init;
};

// What a spare is made of: the backend's own settings.
struct SpareRecipe {
  std::filesystem::path scratch_root;
  CgroupLayout layout;
  std::string run_prefix;  // the cgroup is named run_cgroup_name(run_prefix, scratch)
  bool notify = false;     // the seccomp filter hands a listener over (RunPipes::notify_*)
  int init_binary = -1;    // ignite-sandbox-init, O_PATH; outlives the starter
};

// The per-run cgroup's name: the instance's prefix and the scratch dir's name.
std::string run_cgroup_name(const std::string& run_prefix, const sys::TempDir& scratch);

// Makes the spare's scratch dir at once, then starts the rest on a thread of its own, which
// then waits, parked, until the starter is destroyed: that thread is init's parent, and init's
// PR_SET_PDEATHSIG (child.cpp) fires when the thread that cloned it exits, so it must outlive
// every run that takes the spare. Its signals are blocked: a process-directed signal must reach
// the thread that waits for it.
class SpareStarter {
 public:
  explicit SpareStarter(SpareRecipe recipe);
  ~SpareStarter();  // an untaken spare is destroyed (init killed, dirs removed), then the thread ends
  SpareStarter(const SpareStarter&) = delete;
  SpareStarter& operator=(const SpareStarter&) = delete;

  // A run takes the spare in two steps, so that it can build its mount plan (under the scratch
  // dir) while the spare's init is still being cloned. First the scratch dir, at once, for the
  // first run that fits: one without the host's network (the spare's init has a network
  // namespace of its own). nullopt when there is no spare, it was taken or it does not fit.
  std::optional<sys::TempDir> take_scratch(bool host_network);
  // Then, once the scratch was taken, the rest: waits until the spare's start has ended;
  // nullopt when it failed (logged; the run starts its own init in that scratch dir).
  std::optional<SpareInit> take_init();

 private:
  void run(std::string cgroup_name);

  SpareRecipe recipe_;
  std::optional<sys::TempDir> scratch_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::optional<Result<SpareInit>> started_;
  bool quit_ = false;
  std::thread thread_;
};

// Hands the spare's init the run's arguments (and EOF) and returns the init. A failed write means
// init is gone; its report says why, and release() finds it there as for any init that failed.
LaunchedInit hand_arguments(SpareInit& spare, const ChildArgs& args);

}  // namespace ignite::sandbox::native
