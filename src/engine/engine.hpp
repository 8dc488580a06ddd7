// Engine: the only orchestration code. JobRequest -> preflight -> sandbox plan -> backend -> JobReport.
#pragma once
#include <stop_token>

#include "core/result.hpp"
#include "engine/job.hpp"
#include "runtime/catalog.hpp"
#include "sandbox/backend.hpp"

namespace ignite::engine {

class Engine {
 public:
  Engine(sandbox::Backend& backend, runtime::Catalog catalog)
      : backend_(backend), catalog_(std::move(catalog)) {}

  // Runs one job. Errors (exit 125 / HTTP 5xx-4xx) are Ignite's own failures: runtime missing,
  // preflight failed (code failed_precondition), sandbox setup failed. What the program did is
  // in the JobReport.
  Result<JobReport> execute(const JobRequest& request, std::stop_token stop,
                            const sandbox::OutputSink& sink = {});

  const runtime::Catalog& catalog() const { return catalog_; }

 private:
  sandbox::Backend& backend_;
  runtime::Catalog catalog_;
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
