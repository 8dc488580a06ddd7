// The warm-slot bootstrap of a runtime (runtimes/warm/, protocol in sandbox/common/handoff.hpp).
#pragma once
#include <filesystem>
#include <optional>
#include <string_view>

#include "runtime/catalog.hpp"

namespace ignite::runtime {

// Placed as a file of the slot's own root (no host path is mounted for it, none shows in the
// sandbox's mountinfo).
struct WarmBootstrap {
  std::string_view path;     // where it is inside the sandbox
  std::string_view content;  // a script compiled into our binary, or ignite-warm-exec's bytes
  bool executable = false;
};

// The runtime's bootstrap; nullopt for runtimes that start cold only (quickjs starts in about
// a millisecond anyway) and for go when ignite-warm-exec is not installed next to ignite.
std::optional<WarmBootstrap> warm_bootstrap(std::string_view runtime_name);

// The bootstrap a slot of this installed runtime runs. Python's is compiled ahead to a .pyc by
// the runtime's own interpreter on the host (once per binary and version in this process):
// compiling the source in every slot cost ~3 ms of its CPU, more than the rest of a warm run
// adds to a cold one. Where that cannot be done (no binary, it fails) the source is used.
std::optional<WarmBootstrap> warm_bootstrap(const Installed& rt);

// ignite-warm-exec: the bootstrap that execs a binary (go) in a sandbox built ahead. Looked for
// next to the running executable; $IGNITE_WARM_EXEC overrides (tests).
std::optional<std::filesystem::path> warm_exec_binary();

// ignite-docker-init: PID 1 of the docker backend's containers (runtimes/docker/init.c), put
// into every runtime image. Looked for next to the running executable; $IGNITE_DOCKER_INIT
// overrides (tests).
std::optional<std::filesystem::path> docker_init_binary();

}  // namespace ignite::runtime
