// Inside a container, the cgroup hierarchies are mounted read-only (Docker, Kubernetes), and on
// cgroup v1 hosts they show the host's whole tree (no private cgroup namespace: Docker's default
// there, and what neither docker-compose 1.29 nor a Kubernetes pod spec can change). With
// IGNITE_IN_CONTAINER=1 (Ignite's image sets it) and CAP_SYS_ADMIN, Ignite enters a cgroup
// namespace of its own, rooted at the container's cgroup, and mounts each hierarchy afresh in
// a private mount namespace: writable, and showing only the container's own subtree, which
// Ignite then divides among its sandboxes.
//
// Security: the fresh mounts see nothing above the container's cgroup, so Ignite cannot touch
// another container's or the host's cgroups through them. (A container granted CAP_SYS_ADMIN
// in the host's cgroup namespace could mount the host's tree itself; docs/deploy.md says to
// prefer --cgroupns=private where it can be set.)
#pragma once
#include <filesystem>
#include <string>

#include "core/result.hpp"

namespace ignite::sandbox::native {

// Does the above when asked (IGNITE_IN_CONTAINER=1) and some cgroup mount is read-only; a
// description of what was done ("" when nothing was needed). Must run before any thread starts
// (unshare of the mount namespace refuses a multithreaded caller).
Result<std::string> own_container_cgroups(const std::filesystem::path& proc = "/proc");

}  // namespace ignite::sandbox::native
