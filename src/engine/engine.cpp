#include "engine/engine.hpp"

namespace ignite::engine {
namespace {

std::string failed_checks(const preflight::ServiceReport& report) {
  std::string out;
  for (const auto& c : report.checks) {
    if (c.status != preflight::CheckStatus::fail) continue;
    out += (out.empty() ? "" : "; ") + c.name + ": " + c.message;
  }
  return out;
}

}  // namespace

SandboxSpec plan_service_run(const config::ServiceConfig& service, const runtime::Installed& rt,
                             const std::optional<std::string>& input_json) {
  SandboxSpec spec;
  const std::string entry = (std::filesystem::path("/app") / service.entry).lexically_normal().string();
  spec.argv = runtime::argv_for(rt, entry);
  spec.workdir = "/app";
  spec.mounts = rt.mounts;
  spec.mounts.push_back({service.dir, "/app", false});
  // CONTRACT §1: only these, the runtime's own settings and service.env; nothing of the host.
  spec.env = {"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=/tmp", "TMPDIR=/tmp", "LANG=C.UTF-8",
              "IGNITE_SERVICE=" + service.name};
  for (const auto& e : rt.env) spec.env.push_back(e);
  for (const auto& [k, v] : service.env) spec.env.push_back(k + "=" + v);
  if (input_json) spec.env.push_back("IGNITE_INPUT=" + *input_json);
  spec.limits.wall_time = std::chrono::milliseconds(service.timeout_ms);
  spec.limits.memory_bytes = std::uint64_t{service.memory_mb} << 20;
  spec.limits.cpu_cores = service.cpu_limit;
  spec.limits.network = service.network;
  // /tmp is charged to the memory cgroup too, so it can never exceed the memory limit anyway.
  spec.limits.tmp_bytes = std::min<std::uint64_t>(spec.limits.memory_bytes, 64ull << 20);
  return spec;
}

preflight::RuntimeFacts runtime_facts(const runtime::Installed& rt) {
  return {rt.name, rt.version, rt.install_bytes, rt.baseline_mb};
}

Result<preflight::ServiceReport> preflight_service(const runtime::Catalog& catalog,
                                                  const config::ServiceConfig& service) {
  IGNITE_TRY_ASSIGN(runtime::Installed rt, catalog.resolve(service.runtime));
  return preflight::check_service(service, runtime_facts(rt),
                                  preflight::gather_service_facts(service));
}

Result<JobReport> Engine::execute(const JobRequest& request, std::stop_token stop,
                                  const sandbox::OutputSink& sink) {
  const auto& service = request.service;
  IGNITE_TRY_ASSIGN(runtime::Installed rt, catalog_.resolve(service.runtime));

  JobReport report;
  report.service_name = service.name;
  report.runtime = rt.label();
  report.isolation = std::string(backend_.name());
  report.limits = {service.memory_mb, service.timeout_ms, service.cpu_limit, service.network};
  if (!request.skip_preflight) {
    auto checks = preflight::check_service(service, runtime_facts(rt),
                                           preflight::gather_service_facts(service));
    if (checks.overall == preflight::CheckStatus::fail)
      return fail(ErrorCode::failed_precondition, "preflight failed: " + failed_checks(checks));
    report.preflight = std::move(checks);
  }

  SandboxSpec spec = plan_service_run(service, rt, request.input_json);
  IGNITE_TRY_ASSIGN(report.result, backend_.run(spec, stop, sink));
  return report;
}

}  // namespace ignite::engine
