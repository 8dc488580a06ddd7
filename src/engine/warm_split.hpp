// The warm form of a cold run: the slot spec a pool keeps ready (and is keyed by) and the job
// handed to that slot, such that the program sees what the cold run would have shown it.
#pragma once
#include <optional>

#include "core/spec.hpp"
#include "runtime/catalog.hpp"
#include "sandbox/backend.hpp"

namespace ignite::engine {

struct WarmSplit {
  SandboxSpec slot;  // bootstrap argv, environment without the input, no stdin
  sandbox::Job job;  // the entry and arguments, the whole environment, the input file, stdin
};

// nullopt when the run cannot be warm: the runtime has no bootstrap, or the run has an output
// dir or egress (build steps). `user_args`: the last arguments of cold.argv that are the
// caller's own. `staged_app`: cold's /app is a per-job staging dir (ad-hoc code), which a slot
// gets as a drop dir filled at hand-off; otherwise /app (a service dir) is part of the slot.
std::optional<WarmSplit> warm_split(const SandboxSpec& cold, const runtime::Installed& rt,
                                    std::size_t user_args, bool staged_app);

}  // namespace ignite::engine
