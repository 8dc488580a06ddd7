// The security suite's pooled case: every run whose spec can be warm goes through a warm slot.
// start() builds the sandbox ahead with ignite-warm-exec as its program (what a pool does for
// go, and for any binary), waits until it is ready, and the run then hands it the spec's own
// argv, env and cwd: the program under test runs in a slot that was started before it existed.
// Specs with an output dir or egress (build steps, which are never pooled) start cold.
#pragma once
#include <filesystem>
#include <memory>

#include "sandbox/backend.hpp"

namespace ignite::security {

std::unique_ptr<sandbox::Backend> make_warm_backend(std::unique_ptr<sandbox::Backend> inner,
                                                    std::filesystem::path warm_exec);

}  // namespace ignite::security
