// The docker backend: each sandbox is a container created through the Engine API of a local
// dockerd, from a minimal image of the runtime (`ignite images build`), with Ignite's own init
// as PID 1 (runtimes/docker/init.c). Docker provides the namespaces, the read-only root, the
// user, dropped capabilities, no_new_privs and the cgroup limits; around them Ignite keeps what
// makes results exact and equal to the native backend's: the program's stdio are our pipes (no
// attach stream, no log driver), the native seccomp filter is stacked on docker's profile (its
// listener names a blocked call), the same supervisor watches the run, and the container's
// cgroup is read by us (the init keeps the container alive until we have read it). It needs a
// daemon on this host: binds and pipes are host paths and descriptors.
#pragma once
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "core/spec.hpp"
#include "docker/engine_client.hpp"
#include "sandbox/backend.hpp"

namespace ignite::sandbox::docker {

struct DockerConfig {
  ignite::docker::EngineOptions engine;  // the daemon's socket (DOCKER_HOST) and limits
  // Per-slot dirs (control socket, staged files, drop dirs): the instance's private dir.
  std::filesystem::path scratch_root = "/run/ignite";
  std::string run_prefix;  // the instance's tag: names slots' cgroups and labels
  // At start-up, containers and cgroups whose slot name this says is stale (left by a killed
  // Ignite) are removed. Unset: nothing is collected.
  std::function<bool(std::string_view slot)> stale_run;
  // Shared with the native backend (same lock dir): no two sandboxes of either share a uid.
  unsigned first_id = 60000;
  unsigned id_count = 1000;
  std::filesystem::path id_lock_dir = "/run/ignite/ids";
  // The local image a spec runs in (SandboxSpec::image, else the runtime's image, built on first
  // use); required.
  std::function<Result<std::string>(const SandboxSpec&)> image_for;
  // An image the service names has no init of ours: this one is bound in (ignite-docker-init).
  std::filesystem::path init_binary;
  Limits ceilings = kBackendCeilings;
  std::filesystem::path proc = "/proc";
};

// Pings the daemon (unavailable, with the remedy, when none answers), checks its cgroup driver,
// prepares our cgroup parent, compiles the seccomp filter and removes what killed Ignites left.
Result<std::unique_ptr<Backend>> make_docker_backend(DockerConfig config);

}  // namespace ignite::sandbox::docker
