// Backend: one isolation technology (native, docker, microvm) behind one interface.
#pragma once
#include <functional>
#include <stop_token>
#include <string_view>

#include "core/execution_result.hpp"
#include "core/result.hpp"
#include "core/spec.hpp"

namespace ignite::sandbox {

enum class Stream { out, err };

// Receives output chunks live, as the program writes them (already within the caps).
// Called from the thread inside Backend::run.
using OutputSink = std::function<void(Stream, std::string_view)>;

// Thread-safe: the engine calls run() concurrently, one call per job.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string_view name() const noexcept = 0;

  // Runs one sandboxed process to completion and releases everything it made.
  // Returns an Error only when the sandbox itself could not be provided; whatever the
  // untrusted program did is described by the ExecutionResult.
  virtual Result<ExecutionResult> run(const SandboxSpec& spec, std::stop_token stop,
                                      const OutputSink& sink) = 0;
};

}  // namespace ignite::sandbox
