// Engine: the only orchestration code. JobRequest -> preflight -> sandbox plan -> backend -> JobReport.
#pragma once
#include <array>
#include <functional>
#include <stop_token>

#include "core/result.hpp"
#include "engine/build_cache.hpp"
#include "engine/job.hpp"
#include "engine/languages.hpp"
#include "runtime/catalog.hpp"
#include "pool/pools.hpp"
#include "sandbox/backend.hpp"

namespace ignite::engine {

struct EngineConfig {
  // Where ad-hoc jobs' files are staged for the sandbox (a private dir of ours; see sys::Instance).
  std::filesystem::path work_root = "/run/ignite/work";
  // Artifacts of build steps: node_modules, bundled TypeScript, Go binaries.
  CacheConfig cache;
  std::uint32_t max_adhoc_files = 64;
  std::uint64_t max_adhoc_bytes = 4ull << 20;  // all files together
  // The operator's ceilings: no run, ad-hoc or a service's own service.yaml, may ask for more.
  // 0: only the backend's own ceilings apply.
  std::uint32_t max_memory_mb = 0;
  std::uint32_t max_timeout_ms = 0;
  // Networks a dependency install may reach besides public addresses (an internal registry).
  std::vector<std::string> egress_allow;
  // The isolation of a run that names none (neither its request nor its service.yaml); empty:
  // the engine's own backend.
  std::string default_isolation;
  // The backend for an isolation other than the engine's own backend's (which also runs every
  // build and install step). Unset: that backend is the only one.
  std::function<Result<sandbox::Backend*>(std::string_view isolation)> backend_for;
  // The size of the image a run of `spec` would use on an image-based backend (preflight's
  // image size check then measures it); nullopt when unknown.
  std::function<std::optional<std::uint64_t>(const SandboxSpec& spec)> image_bytes;
};

// Input larger than this reaches the program only through IGNITE_INPUT_FILE (the kernel passes
// at most 128 KiB per environment string, and all of them together share the exec budget).
constexpr std::size_t kMaxInputInEnvironment = 64 * 1024;
constexpr const char* kInputFile = "/run/ignite/input.json";

class Engine {
 public:
  // With `pools`, runs of the runtimes it serves take a warm slot when one is ready.
  Engine(sandbox::Backend& backend, runtime::Catalog catalog, EngineConfig config = {},
         pool::Pools* pools = nullptr)
      : backend_(backend), catalog_(std::move(catalog)), config_(std::move(config)), cache_(config_.cache),
        pools_(pools) {}

  // Runs one job. Errors (exit 125 / HTTP 5xx-4xx) are Ignite's own failures: runtime missing,
  // preflight failed (code failed_precondition), sandbox setup failed. What the program did is
  // in the JobReport.
  Result<JobReport> execute(const JobRequest& request, std::stop_token stop,
                            const sandbox::OutputSink& sink = {});

  // Runs ad-hoc code: stages the files read-only at /app and runs files[0]. Fails with
  // invalid_argument for bad file names, too many/large files, or an unknown runtime.
  Result<JobReport> execute_adhoc(const AdhocRequest& request, std::stop_token stop,
                                  const sandbox::OutputSink& sink = {});

  // Makes the pools start their minimum now for ad-hoc code of each pooled runtime with the
  // limits of `shape` (the server's defaults), instead of at the first such request. Runtimes
  // that are not installed, or whose ad-hoc code needs a build step, are left to demand.
  void prime_pools(const AdhocRequest& shape);

  const runtime::Catalog& catalog() const { return catalog_; }
  BuildCache& cache() { return cache_; }
  const pool::Pools* pools() const { return pools_; }

 private:
  struct ProgramInputs {
    std::optional<std::string> input_json;
    std::vector<std::string> args;
    std::string stdin_data;
    bool staged_app = false;  // /app is a staging dir of this job's own (ad-hoc code)
  };
  // Dependencies, build steps, then the run itself: shared by services and ad-hoc code.
  // The run itself happens on `run_backend`; steps on the engine's own backend.
  Result<JobReport> run_program(const config::ServiceConfig& service, const runtime::Installed& rt,
                                const ProgramInputs& inputs, JobReport report, sandbox::Backend& run_backend,
                                std::stop_token stop, const sandbox::OutputSink& sink);

  // The backend of a run: the request's isolation, else the service's, else the default.
  Result<sandbox::Backend*> backend_for(std::string_view requested, const config::ServiceConfig& service);

  // The run itself: in a warm slot when a pool serves the runtime, else cold. `artifacts`:
  // the dependencies and build the spec mounts (either may be null), whose leases the pool's
  // idle slots hold.
  Result<ExecutionResult> run_sandboxed(const SandboxSpec& spec, const runtime::Installed& rt,
                                        const ProgramInputs& inputs, std::array<const Artifact*, 2> artifacts,
                                        sandbox::Backend& backend, std::stop_token stop,
                                        const sandbox::OutputSink& sink);

  // invalid_argument when the run asks for more than the operator allows.
  Status check_ceilings(std::uint32_t memory_mb, std::uint32_t timeout_ms) const;

  sandbox::Backend& backend_;
  runtime::Catalog catalog_;
  EngineConfig config_;
  BuildCache cache_;
  pool::Pools* pools_;
};

// What preflight needs to know about a resolved runtime; a profile's memory baseline counts too.
preflight::RuntimeFacts runtime_facts(const runtime::Installed& rt, const std::string& profile = "");

// invalid_argument when the runtime has no such profile, failed_precondition (with how to
// install it) when this host lacks what it needs; ok for "".
Status check_profile(const std::string& profile, const runtime::Installed& rt);

// Preflight of a service against the catalog (for `ignite preflight` and the HTTP route).
// Fails when the runtime is not installed.
Result<preflight::ServiceReport> preflight_service(const runtime::Catalog& catalog,
                                                  const config::ServiceConfig& service);

// What execve would refuse, as a clear invalid_argument: an argument or variable over the
// kernel's 128 KiB per string, or all of them together over 1 MiB. The last `user_args`
// arguments are the caller's own and are named as "args[i]".
Status check_exec_size(const SandboxSpec& spec, std::size_t user_args);

// The sandbox spec for a service run: pure, so tests can check exactly what the program gets.
SandboxSpec plan_service_run(const config::ServiceConfig& service, const runtime::Installed& rt,
                             const std::optional<std::string>& input_json);

}  // namespace ignite::engine
