#include "engine/engine.hpp"

#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include "engine/output_files.hpp"
#include "engine/steps.hpp"
#include "engine/warm_split.hpp"
#include "sys/owned_dir.hpp"
#include "sys/temp_dir.hpp"

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

// As root, the program runs as an unprivileged uid that owns nothing on the host: the service
// must be world-readable, or the program fails with a confusing EACCES on its own entry file.
// (Rootless runs map the caller's uid inside, so their own files are readable.)
Status check_readable_by_sandbox(const config::ServiceConfig& service) {
  if (::geteuid() != 0) return ok();
  struct stat dir {}, entry {};
  if (::stat(service.dir.c_str(), &dir) != 0 || ::stat(service.entry_path.c_str(), &entry) != 0)
    return ok();  // the loader already checked existence; let the run report anything else
  if ((dir.st_mode & S_IXOTH) && (entry.st_mode & S_IROTH)) return ok();
  return fail(ErrorCode::failed_precondition,
              "the sandbox user cannot read " + service.dir.string() +
                  " (programs run as an unprivileged uid): make it world-readable, e.g. chmod -R o+rX " +
                  service.dir.string());
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
  if (auto p = rt.profiles.find(service.profile); !service.profile.empty() && p != rt.profiles.end()) {
    spec.mounts.insert(spec.mounts.end(), p->second.mounts.begin(), p->second.mounts.end());
    spec.env.insert(spec.env.end(), p->second.env.begin(), p->second.env.end());
  }
  for (const auto& [k, v] : service.env) spec.env.push_back(k + "=" + v);
  if (input_json) {
    // Any size reaches the program as a file; small inputs also as the variable (CONTRACT §1).
    spec.files.push_back({kInputFile, *input_json});
    spec.env.push_back(std::string("IGNITE_INPUT_FILE=") + kInputFile);
    if (input_json->size() <= kMaxInputInEnvironment) spec.env.push_back("IGNITE_INPUT=" + *input_json);
  }
  spec.limits.wall_time = std::chrono::milliseconds(service.timeout_ms);
  spec.limits.memory_bytes = std::uint64_t{service.memory_mb} << 20;
  spec.limits.cpu_cores = service.cpu_limit;
  spec.limits.network = service.network;
  // /tmp is charged to the memory cgroup too, so it can never exceed the memory limit anyway.
  spec.limits.tmp_bytes = std::min<std::uint64_t>(spec.limits.memory_bytes, 64ull << 20);
  spec.runtime_image = rt.label();
  spec.image = service.image;
  return spec;
}

preflight::RuntimeFacts runtime_facts(const runtime::Installed& rt, const std::string& profile) {
  double baseline = rt.baseline_mb;
  if (auto p = rt.profiles.find(profile); !profile.empty() && p != rt.profiles.end()) baseline += p->second.baseline_mb;
  // Named: a positional 4th value would land in image_bytes (it did, once: every runtime was
  // checked against the default 30 MB baseline and a 12-byte "image").
  return {.name = rt.name, .version = rt.version, .install_bytes = rt.install_bytes, .image_bytes = std::nullopt,
          .baseline_mb = baseline};
}

Status check_profile(const std::string& profile, const runtime::Installed& rt) {
  if (profile.empty()) return ok();
  auto p = rt.profiles.find(profile);
  if (p == rt.profiles.end()) {
    std::string known;
    for (const auto& [name, _] : rt.profiles) known += (known.empty() ? "" : ", ") + name;
    return fail(ErrorCode::invalid_argument, "runtime " + rt.name + " has no profile '" + profile + "' (" +
                                                 (known.empty() ? "it has none" : "it has: " + known) + ")");
  }
  if (!p->second.available)
    return fail(ErrorCode::failed_precondition, "profile '" + profile + "' of " + rt.name +
                                                    " is not installed on this host: " + p->second.hint);
  return ok();
}

Result<preflight::ServiceReport> preflight_service(const runtime::Catalog& catalog,
                                                  const config::ServiceConfig& service) {
  IGNITE_TRY_ASSIGN(runtime::Installed rt, catalog.resolve(service.runtime));
  return preflight::check_service(service, runtime_facts(rt, service.profile),
                                  preflight::gather_service_facts(service));
}

Status check_exec_size(const SandboxSpec& spec, std::size_t user_args) {
  // MAX_ARG_STRLEN: one string (with its NUL) of argv or envp; and all of them share a quarter
  // of the stack limit, of which we claim a conservative part.
  constexpr std::size_t kMaxString = 128 * 1024 - 1, kMaxTotal = 1024 * 1024;
  std::size_t total = 0;
  for (std::size_t i = 0; i < spec.argv.size(); ++i) {
    total += spec.argv[i].size() + 1 + sizeof(char*);
    if (spec.argv[i].size() <= kMaxString) continue;
    const std::size_t first_user = spec.argv.size() - std::min(user_args, spec.argv.size());
    const std::string which = i >= first_user ? "args[" + std::to_string(i - first_user) + "]"
                                              : "argument " + std::to_string(i);
    return fail(ErrorCode::invalid_argument,
                which + " is " + std::to_string(spec.argv[i].size()) +
                    " bytes; a program argument can be at most " + std::to_string(kMaxString) +
                    " (pass large data as stdin or input)");
  }
  for (const auto& e : spec.env) {
    total += e.size() + 1 + sizeof(char*);
    if (e.size() > kMaxString)
      return fail(ErrorCode::invalid_argument,
                  "environment variable " + e.substr(0, e.find('=')) + " is " + std::to_string(e.size()) +
                      " bytes; a variable can be at most " + std::to_string(kMaxString));
  }
  if (total > kMaxTotal)
    return fail(ErrorCode::invalid_argument, "arguments and environment together are " + std::to_string(total) +
                                                 " bytes; at most " + std::to_string(kMaxTotal) +
                                                 " (pass large data as stdin or input)");
  return ok();
}

Result<JobReport> Engine::execute(const JobRequest& request, std::stop_token stop,
                                  const sandbox::OutputSink& sink) {
  const auto& service = request.service;
  IGNITE_TRY_ASSIGN(runtime::Installed rt, catalog_.resolve(service.runtime));
  IGNITE_TRY(check_readable_by_sandbox(service));
  IGNITE_TRY(check_profile(service.profile, rt));
  // Operator ceilings bound a service's own limits too (and so its build steps); ad-hoc code is
  // checked in execute_adhoc, before its files are staged.
  IGNITE_TRY(check_ceilings(service.memory_mb, service.timeout_ms));

  IGNITE_TRY_ASSIGN(sandbox::Backend * run_backend, backend_for(request.isolation, service));
  JobReport report;
  report.service_name = service.name;
  report.runtime = rt.label();
  report.isolation = std::string(run_backend->name());
  report.limits = {service.memory_mb, service.timeout_ms, service.cpu_limit, service.network};
  if (!request.skip_preflight) {
    preflight::RuntimeFacts facts = runtime_facts(rt, service.profile);
    if (run_backend->name() == "docker" && config_.image_bytes) {
      SandboxSpec spec = plan_service_run(service, rt, std::nullopt);
      if (needs_compile(rt)) spec.runtime_image.clear();  // a static binary: our init's image only
      facts.image_bytes = config_.image_bytes(spec);
    }
    auto checks = preflight::check_service(service, facts, preflight::gather_service_facts(service));
    if (checks.overall == preflight::CheckStatus::fail)
      return fail(ErrorCode::failed_precondition, "preflight failed: " + failed_checks(checks));
    report.preflight = std::move(checks);
  }

  return run_program(service, rt, {request.input_json, {}, {}, false}, std::move(report), *run_backend, stop, sink);
}

Result<sandbox::Backend*> Engine::backend_for(std::string_view requested, const config::ServiceConfig& service) {
  const std::string name = !requested.empty()            ? std::string(requested)
                           : !service.isolation.empty() ? service.isolation
                                                        : config_.default_isolation;
  if (name.empty() || name == backend_.name()) return &backend_;
  if (!config::valid_isolation(name))
    return fail(ErrorCode::invalid_argument, "isolation '" + name + "' is not a backend (native, docker or microvm)");
  if (!config_.backend_for)
    return fail(ErrorCode::unsupported, "isolation '" + name + "' is not available here (available: " +
                                            std::string(backend_.name()) + ")");
  return config_.backend_for(name);
}

Status Engine::check_ceilings(std::uint32_t memory_mb, std::uint32_t timeout_ms) const {
  if (config_.max_memory_mb && memory_mb > config_.max_memory_mb)
    return fail(ErrorCode::invalid_argument, "memoryMb " + std::to_string(memory_mb) + " is over this server's ceiling of " +
                                                 std::to_string(config_.max_memory_mb) + " (--max-memory-mb)");
  if (config_.max_timeout_ms && timeout_ms > config_.max_timeout_ms)
    return fail(ErrorCode::invalid_argument, "timeoutMs " + std::to_string(timeout_ms) + " is over this server's ceiling of " +
                                                 std::to_string(config_.max_timeout_ms) + " (--max-timeout-ms)");
  return ok();
}

Result<JobReport> Engine::run_program(const config::ServiceConfig& service,
                                      const runtime::Installed& rt, const ProgramInputs& inputs,
                                      JobReport report, sandbox::Backend& run_backend, std::stop_token stop,
                                      const sandbox::OutputSink& sink) {
  if (!service.profile.empty() && run_backend.name() == "docker")
    return fail(ErrorCode::unsupported, "profile '" + service.profile +
                                            "' runs on the native backend only (a runtime image holds the runtime's own files)");
  SandboxSpec spec = plan_service_run(service, rt, inputs.input_json);
  spec.argv.insert(spec.argv.end(), inputs.args.begin(), inputs.args.end());
  spec.stdin_data = inputs.stdin_data;
  // Arguments and variables the kernel would refuse at execve: say which, before any step runs.
  IGNITE_TRY(check_exec_size(spec, inputs.args.size()));

  // The artifacts stay leased (safe from eviction) until the run is over.
  const StepContext ctx{backend_, catalog_, cache_, spec.limits, config_.egress_allow, stop};
  std::optional<Artifact> deps, built;
  if (needs_dependencies(service)) {
    IGNITE_TRY_ASSIGN(deps, install_dependencies(ctx, service, rt));
    if (deps->failed()) {
      const std::string& err = deps->step->stderr_data;
      return fail(ErrorCode::failed_precondition,
                  "dependency install failed (" + std::string(status_name(deps->step->outcome, deps->step->exit_code)) +
                      "): " + err.substr(err.size() > 2000 ? err.size() - 2000 : 0));
    }
    report.install = deps->step;
    report.install_cached = deps->cached;
  }

  if (needs_compile(rt) || needs_transpile(service, rt)) {
    IGNITE_TRY_ASSIGN(built, needs_compile(rt) ? compile_program(ctx, service, rt)
                                               : transpile_typescript(ctx, service, rt, deps ? &*deps : nullptr));
    report.compile = built->step;
    report.compile_cached = built->cached;
    // A compile error is the program's failure: it is the result, with the compiler's output.
    if (built->failed()) {
      report.result = *built->step;
      return report;
    }
    const std::size_t user_args = inputs.args.size();
    if (needs_compile(rt)) {
      // The binary is static: it needs neither the toolchain nor any library.
      spec.mounts = {{built->dir, "/opt/ignite/program", false}, {service.dir, "/app", false}};
      spec.runtime_image.clear();
      std::vector<std::string> argv = {"/opt/ignite/program/main"};
      argv.insert(argv.end(), spec.argv.end() - static_cast<std::ptrdiff_t>(user_args), spec.argv.end());
      spec.argv = std::move(argv);
    } else {
      spec.mounts.push_back({built->dir, "/opt/ignite/build", false});
      spec.argv[spec.argv.size() - user_args - 1] = "/opt/ignite/build/" + transpiled_name(service);
    }
  }
  if (deps) {
    const auto [from, to] = dependency_mount(rt);
    spec.mounts.push_back({deps->dir / from, to, false});
  }
  // Ad-hoc code's /app is a staging dir of this job's own, which no other run shares.
  if (inputs.staged_app) {
    for (Mount& m : spec.mounts) m.exclusive = m.exclusive || (m.target == "/app" && m.source == service.dir);
  }
  // /out lands in a private dir of ours; what fits goes into the result, then the dir goes.
  add_program_output(spec);
  IGNITE_TRY(sys::ensure_owned_dir(config_.work_root, 0700));
  IGNITE_TRY_ASSIGN(const sys::TempDir out_dir, sys::TempDir::create(config_.work_root, "out-"));
  spec.output->host_dest = out_dir.path();
  IGNITE_TRY_ASSIGN(report.result, run_sandboxed(spec, rt, inputs, {deps ? &*deps : nullptr, built ? &*built : nullptr},
                                                 run_backend, stop, sink));
  report.cold_start = !report.result.warm;
  collect_output_files(out_dir.path(), report.result, report);
  return report;
}

Result<ExecutionResult> Engine::run_sandboxed(const SandboxSpec& spec, const runtime::Installed& rt,
                                              const ProgramInputs& inputs,
                                              std::array<const Artifact*, 2> artifacts, sandbox::Backend& backend,
                                              std::stop_token stop, const sandbox::OutputSink& sink) {
  // Ad-hoc builds differ per job: a pool for one would not be met again.
  const bool built = artifacts[0] || artifacts[1];
  if (!pools_ || &pools_->backend() != &backend || !pools_->serves(rt.name) || (inputs.staged_app && built))
    return backend.run(spec, stop, sink);
  auto w = warm_split(spec, rt, inputs.args.size(), inputs.staged_app);
  if (!w) return backend.run(spec, stop, sink);
  // Idle slots that mount an artifact hold a lease on it (a dup of ours), so eviction leaves
  // it alone while they may still run.
  std::vector<sys::Fd> leases;
  for (const Artifact* a : artifacts) {
    if (a && a->lease) leases.emplace_back(::fcntl(a->lease.get(), F_DUPFD_CLOEXEC, 0));
  }
  return pools_->run(rt.name, w->slot, std::move(w->job), spec, stop, sink, std::move(leases));
}

}  // namespace ignite::engine
