// The Engine API's container config for one slot of the docker backend: pure data, so tests can
// check exactly which promises each field keeps.
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/spec.hpp"

namespace ignite::sandbox::docker {

inline constexpr const char* kInitPath = "/ignite/init";
inline constexpr const char* kControlDir = "/ignite/ctl";

struct ContainerPlan {
  std::string image;                            // a local image (tag or id)
  std::optional<std::filesystem::path> init;    // host init to bind at kInitPath (an image not ours)
  std::vector<Mount> binds;                     // host dirs and files, in the order given
  unsigned uid = 0;                             // = gid
  std::string cgroup_parent;                    // our per-slot cgroup, from the hierarchy's root
  std::string slot;                             // the ignite.slot label
};

// Labels every container of ours carries: what start-up collection looks for.
inline constexpr const char* kBackendLabel = "ignite.backend";
inline constexpr const char* kSlotLabel = "ignite.slot";

// Read-only root, no capabilities, no new privileges, no network unless asked, a size-capped
// /tmp, our init as PID 1, the spec's environment and working directory, no log driver (the
// program's output never goes through the daemon), and a few MiB of slack over the memory and
// pids limits that our own cgroup above the container enforces exactly (so the OOM killer and
// the pids limit act in the cgroup we read).
nlohmann::json container_config(const SandboxSpec& spec, const ContainerPlan& plan);

}  // namespace ignite::sandbox::docker
