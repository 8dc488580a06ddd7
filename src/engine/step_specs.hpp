// What every build step's sandbox has in common (steps.cpp, pip_install.cpp): the run's own
// limits and no more, the tool's runtime mounts, a /out for what leaves the step, and — for
// install steps only — egress through the proxy.
#pragma once
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/spec.hpp"
#include "engine/steps.hpp"

namespace ignite::engine {

Limits step_limits(const Limits& run, std::chrono::milliseconds longest);
SandboxSpec step_spec(const runtime::Installed& rt, Limits limits);
// Public addresses (and ctx.egress_allow) through the proxy at 127.0.0.1:3128 in the step's
// own network namespace; the host's CA bundle for TLS.
void add_egress(SandboxSpec& spec, const StepContext& ctx);

// dir/<name> (package.json, requirements.txt …) as an install step reads it: a plain file of at
// most `max_bytes`, never through a link (a lock file linked to /proc/self/environ would hand
// our environment to the install); nullopt when there is none. Errors name the service's file,
// never its host path.
Result<std::optional<std::string>> read_manifest(const std::filesystem::path& dir, std::string_view name,
                                                 std::uint64_t max_bytes);

}  // namespace ignite::engine
