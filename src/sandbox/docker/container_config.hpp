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
// In the control dir: the program's environment, "K=V" strings each ended by a NUL.
inline constexpr const char* kEnvFileName = "env";

struct ContainerPlan {
  std::string image;                            // a local image (tag or id)
  std::optional<std::filesystem::path> init;    // host init to bind at kInitPath (an image not ours)
  std::vector<Mount> binds;                     // host dirs and files, in the order given
  unsigned uid = 0;                             // = gid
  std::string slot;                             // the ignite.slot label
};

// Labels every container of ours carries: what start-up collection looks for.
inline constexpr const char* kBackendLabel = "ignite.backend";
inline constexpr const char* kSlotLabel = "ignite.slot";

// Read-only root, no capabilities, no new privileges, the native seccomp filter (loaded by our
// init for the program, instead of docker's profile), no network unless asked, a size-capped
// /tmp, our init as PID 1, the spec's environment and working directory, no log driver (the
// program's output never goes through the daemon), memory without swap, the pids limit (our
// init counts in it, as native's init does), the CPU quota.
nlohmann::json container_config(const SandboxSpec& spec, const ContainerPlan& plan);

}  // namespace ignite::sandbox::docker
