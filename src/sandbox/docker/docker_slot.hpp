// DockerSlot: one container the docker backend started (docker_backend.cpp), run once. Its
// init (runtimes/docker/init.c) is connected and waiting: the program starts when run() sends
// the start message (cold), or was started by start() as a warm bootstrap.
#pragma once
#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/spec.hpp"
#include "sandbox/backend.hpp"
#include "sandbox/docker/init_channel.hpp"
#include "sandbox/native/cgroup.hpp"
#include "sandbox/native/id_pool.hpp"
#include "sys/child_process.hpp"
#include "sys/fd.hpp"
#include "sys/pipe.hpp"
#include "sys/temp_dir.hpp"

namespace ignite::sandbox::docker {

// What is left of a slot once its container is killed: removed off the caller's path by the
// backend's reaper (the container with its cgroup first, then the slot's dirs, the uid last).
struct Remains {
  std::string container;  // id; empty when it was never created
  std::optional<sys::TempDir> scratch;
  std::optional<native::IdPool::Lease> id;
};
using Reap = std::function<void(Remains)>;

struct DockerSlotParts {
  Remains remains;
  std::vector<std::filesystem::path> drop_hosts;  // host dirs behind spec.drop_dirs
  SandboxSpec spec;                               // without stdin_data
  InitConnection init;                            // closed once the run is measured: init exits
  InitStart start;                                // sent at release
  std::optional<native::Cgroup> cgroup;           // docker's, for the container (read only)
  sys::Fd out_dir;                                // the container's output tmpfs (spec.output)
  sys::Pipe in, out, err, report, exec;
  sys::Fd notify_parent, notify_child;
  std::chrono::steady_clock::time_point started;
  bool released = false;
};

class DockerSlot final : public Slot {
 public:
  DockerSlot(DockerSlotParts parts, sys::ChildProcess init, Reap reap)
      : p_(std::move(parts)), init_(std::move(init)), reap_(std::move(reap)) {}
  ~DockerSlot() override;

  // Warm slots: starts the bootstrap and waits until it says it is ready.
  Status warm_up(std::chrono::milliseconds timeout);

  Result<ExecutionResult> run(Job job, std::stop_token stop, const OutputSink& sink) override;
  std::uint64_t resident_bytes() const override { return resident_; }

 private:
  // Sends the start message; the host keeps only its own ends of the pipes.
  Status release();

  DockerSlotParts p_;
  sys::ChildProcess init_;  // the container's PID 1, by pidfd: killing it ends the container
  Reap reap_;
  bool used_ = false;
  std::uint64_t resident_ = 0;
};

}  // namespace ignite::sandbox::docker
