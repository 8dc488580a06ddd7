// Engine: the only orchestration code. JobRequest -> preflight -> sandbox plan -> backend -> JobReport.
#pragma once
#include <stop_token>

#include "core/result.hpp"
#include "engine/job.hpp"
#include "engine/languages.hpp"
#include "runtime/catalog.hpp"
#include "sandbox/backend.hpp"

namespace ignite::engine {

struct EngineConfig {
  // Where ad-hoc jobs' files are staged for the sandbox (root-owned, 0711).
  std::filesystem::path work_root = "/run/ignite/work";
  // Content-addressed artifacts: node_modules, transpiled TypeScript, Go binaries.
  std::filesystem::path cache_root = "/var/cache/ignite";
  std::uint32_t max_adhoc_files = 64;
  std::uint64_t max_adhoc_bytes = 4ull << 20;  // all files together
};

class Engine {
 public:
  Engine(sandbox::Backend& backend, runtime::Catalog catalog, EngineConfig config = {})
      : backend_(backend), catalog_(std::move(catalog)), config_(std::move(config)) {}

  // Runs one job. Errors (exit 125 / HTTP 5xx-4xx) are Ignite's own failures: runtime missing,
  // preflight failed (code failed_precondition), sandbox setup failed. What the program did is
  // in the JobReport.
  Result<JobReport> execute(const JobRequest& request, std::stop_token stop,
                            const sandbox::OutputSink& sink = {});

  // Runs ad-hoc code: stages the files read-only at /app and runs files[0]. Fails with
  // invalid_argument for bad file names, too many/large files, or an unknown runtime.
  Result<JobReport> execute_adhoc(const AdhocRequest& request, std::stop_token stop,
                                  const sandbox::OutputSink& sink = {});

  const runtime::Catalog& catalog() const { return catalog_; }

 private:
  struct ProgramInputs {
    std::optional<std::string> input_json;
    std::vector<std::string> args;
    std::string stdin_data;
  };
  // Dependencies, build steps, then the run itself: shared by services and ad-hoc code.
  Result<JobReport> run_program(const config::ServiceConfig& service, const runtime::Installed& rt,
                                const ProgramInputs& inputs, JobReport report,
                                std::stop_token stop, const sandbox::OutputSink& sink);

  sandbox::Backend& backend_;
  runtime::Catalog catalog_;
  EngineConfig config_;
};

// What preflight needs to know about a resolved runtime.
preflight::RuntimeFacts runtime_facts(const runtime::Installed& rt);

// Preflight of a service against the catalog (for `ignite preflight` and the HTTP route).
// Fails when the runtime is not installed.
Result<preflight::ServiceReport> preflight_service(const runtime::Catalog& catalog,
                                                  const config::ServiceConfig& service);

// The sandbox spec for a service run: pure, so tests can check exactly what the program gets.
SandboxSpec plan_service_run(const config::ServiceConfig& service, const runtime::Installed& rt,
                             const std::optional<std::string>& input_json);

}  // namespace ignite::engine
