// Content-addressed artifacts made by sandboxed steps: compiled Go binaries, transpiled
// TypeScript, installed node_modules. A second run with the same inputs reuses the artifact.
#pragma once
#include <filesystem>
#include <functional>
#include <optional>
#include <stop_token>
#include <string>

#include "core/execution_result.hpp"
#include "core/result.hpp"
#include "sandbox/backend.hpp"

namespace ignite::engine {

struct Artifact {
  std::filesystem::path dir;            // <cache>/<kind>/<key>; valid when the step succeeded
  bool cached = false;                  // reused, no step ran
  std::optional<ExecutionResult> step;  // the step's own result when it ran
  bool failed() const { return step && !(step->outcome == Outcome::exited && step->exit_code == 0); }
};

// Host-side view of a step's output directory (mounted writable at the step's /out).
using StepSpecFn = std::function<SandboxSpec(const std::filesystem::path& out_dir)>;
// Checks what the untrusted step wrote before it is trusted as an artifact.
using VerifyFn = std::function<Status(const std::filesystem::path& out_dir)>;

// Returns the artifact for `key` under `cache_dir`, running the step when it is missing.
// A failed step is not an Error (it is the program's compile error); the sandbox failing is.
Result<Artifact> cached_artifact(sandbox::Backend& backend, const std::filesystem::path& cache_dir,
                                 const std::string& key, const StepSpecFn& make_spec,
                                 const VerifyFn& verify, std::stop_token stop);

// sha256 over every regular file under `dir` (names and contents, sorted; symlinks and
// node_modules skipped), plus `salt` (the runtime label and tool versions).
Result<std::string> hash_tree(const std::filesystem::path& dir, const std::string& salt);

// Security: an artifact path written by sandboxed code must be a plain file or directory,
// never a symlink that the host would follow when mounting it.
Status require_plain(const std::filesystem::path& path, bool directory);

}  // namespace ignite::engine
