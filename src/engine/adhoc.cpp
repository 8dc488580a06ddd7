// Ad-hoc jobs: code without a service directory, staged into a private directory per run.
#include <sys/stat.h>

#include <cstring>
#include <set>

#include "engine/engine.hpp"
#include "engine/output_files.hpp"
#include "engine/steps.hpp"
#include "engine/warm_split.hpp"
#include "sys/files.hpp"
#include "sys/owned_dir.hpp"
#include "sys/temp_dir.hpp"

namespace ignite::engine {
namespace {

namespace fs = std::filesystem;

// Security: names come from the network. Only plain relative paths inside the staging dir.
Status check_file_name(const std::string& name) {
  if (name.empty() || name.size() > 255)
    return fail(ErrorCode::invalid_argument, "file name must be 1-255 characters");
  if (name.find('\0') != std::string::npos || name.front() == '/' || name.find('\\') != std::string::npos)
    return fail(ErrorCode::invalid_argument, "invalid file name: " + name);
  for (const auto& part : fs::path(name)) {
    if (part == ".." || part == "." || part.empty())
      return fail(ErrorCode::invalid_argument, "invalid file name: " + name);
  }
  return ok();
}

// Two files with one name, or a name that is both a file and a directory ("a" and "a/b"),
// cannot both be staged: say which, before anything is written.
Status check_file_set(const std::vector<SourceFile>& files) {
  std::set<std::string> names, dirs;
  for (const auto& f : files) {
    const std::string name = fs::path(f.name).lexically_normal().string();
    if (!names.insert(name).second) return fail(ErrorCode::invalid_argument, "file '" + f.name + "' is given twice");
    for (fs::path p = fs::path(name).parent_path(); !p.empty(); p = p.parent_path()) dirs.insert(p.string());
  }
  for (const auto& name : names) {
    if (dirs.count(name))
      return fail(ErrorCode::invalid_argument, "'" + name + "' is given both as a file and as a directory");
  }
  return ok();
}

// Security: errors name the file as the client gave it, never the host path it is staged at.
Status stage_files(const fs::path& dir, const std::vector<SourceFile>& files) {
  for (const auto& f : files) {
    const fs::path p = dir / f.name;
    std::error_code ec;
    fs::create_directories(p.parent_path(), ec);
    if (ec) return fail(ErrorCode::invalid_argument, "cannot stage file '" + f.name + "': " + ec.message());
    ::chmod(p.parent_path().c_str(), 0755);
    if (!sys::write_new_file(p, f.content, 0644))
      return fail(ErrorCode::invalid_argument, "cannot stage file '" + f.name + "': " + std::strerror(errno));
  }
  return ok();
}

}  // namespace

Result<JobReport> Engine::execute_adhoc(const AdhocRequest& request, std::stop_token stop,
                                        const sandbox::OutputSink& sink) {
  if (request.files.empty()) return fail(ErrorCode::invalid_argument, "no code given");
  if (request.files.size() > config_.max_adhoc_files)
    return fail(ErrorCode::invalid_argument,
                "too many files (at most " + std::to_string(config_.max_adhoc_files) + ")");
  std::uint64_t total = 0;
  for (const auto& f : request.files) {
    IGNITE_TRY(check_file_name(f.name));
    total += f.content.size();
  }
  IGNITE_TRY(check_file_set(request.files));
  if (total > config_.max_adhoc_bytes)
    return fail(ErrorCode::invalid_argument, "code is larger than " +
                                                 std::to_string(config_.max_adhoc_bytes) + " bytes");
  IGNITE_TRY_ASSIGN(runtime::Installed rt, catalog_.resolve(request.runtime));
  IGNITE_TRY(check_profile(request.profile, rt));

  IGNITE_TRY(check_ceilings(request.memory_mb, request.timeout_ms));
  // Private to us: the sandbox sees the staged files through its read-only bind at /app, which
  // is mounted before it drops privileges; no other local user can reach or swap them.
  IGNITE_TRY(sys::ensure_owned_dir(config_.work_root, 0700));
  IGNITE_TRY_ASSIGN(sys::TempDir dir, sys::TempDir::create(config_.work_root, "job-"));
  ::chmod(dir.path().c_str(), 0755);
  IGNITE_TRY(stage_files(dir.path(), request.files));

  config::ServiceConfig service;
  service.name = "adhoc";
  service.dir = dir.path();
  service.runtime = request.runtime;
  service.entry = request.files.front().name;
  service.entry_path = dir.path() / service.entry;
  service.memory_mb = request.memory_mb;
  service.timeout_ms = request.timeout_ms;
  service.cpu_limit = request.cpu_limit;
  service.network = request.network;
  service.profile = request.profile;

  IGNITE_TRY_ASSIGN(sandbox::Backend * run_backend, backend_for(request.isolation, service));
  JobReport report;
  report.service_name = "";
  report.runtime = rt.label();
  report.isolation = std::string(run_backend->name());
  report.limits = {request.memory_mb, request.timeout_ms, request.cpu_limit, request.network};
  return run_program(service, rt, {request.input_json, request.args, request.stdin_data, true},
                     std::move(report), *run_backend, stop, sink);
}

void Engine::prime_pools(const AdhocRequest& shape) {
  if (!pools_) return;
  for (const auto& [name, bounds] : pools_->runtimes()) {
    auto ref = config::parse_runtime_ref(name);
    if (!ref) continue;
    auto rt = catalog_.resolve(*ref);
    if (!rt) continue;
    // The slot of an ad-hoc run does not depend on its files: they arrive at the hand-off.
    config::ServiceConfig service;
    service.name = "adhoc";
    service.dir = config_.work_root;
    service.runtime = *ref;
    service.entry = entry_name_for(name, *ref);
    service.entry_path = service.dir / service.entry;
    service.memory_mb = shape.memory_mb;
    service.timeout_ms = shape.timeout_ms;
    service.cpu_limit = shape.cpu_limit;
    service.network = shape.network;
    if (needs_compile(*rt) || needs_transpile(service, *rt)) continue;
    SandboxSpec spec = plan_service_run(service, *rt, std::nullopt);
    add_program_output(spec);  // as run_program does
    if (auto w = warm_split(spec, *rt, 0, true)) pools_->prime(name, w->slot);
  }
}

}  // namespace ignite::engine
