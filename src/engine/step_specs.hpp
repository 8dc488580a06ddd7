// What every build step's sandbox has in common (steps.cpp, pip_install.cpp): the run's own
// limits and no more, the tool's runtime mounts, a /out for what leaves the step, and — for
// install steps only — egress through the proxy.
#pragma once
#include <chrono>

#include "core/spec.hpp"
#include "engine/steps.hpp"

namespace ignite::engine {

Limits step_limits(const Limits& run, std::chrono::milliseconds longest);
SandboxSpec step_spec(const runtime::Installed& rt, Limits limits);
// Public addresses (and ctx.egress_allow) through the proxy at 127.0.0.1:3128 in the step's
// own network namespace; the host's CA bundle for TLS.
void add_egress(SandboxSpec& spec, const StepContext& ctx);

}  // namespace ignite::engine
