// Ad-hoc jobs: code without a service directory, staged into a private directory per run.
#include <sys/stat.h>

#include "engine/engine.hpp"
#include "sys/files.hpp"
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

Status stage_files(const fs::path& dir, const std::vector<SourceFile>& files) {
  for (const auto& f : files) {
    const fs::path p = dir / f.name;
    std::error_code ec;
    fs::create_directories(p.parent_path(), ec);
    if (ec) return fail(Error::from_errno("stage " + f.name, ec.value()));
    ::chmod(p.parent_path().c_str(), 0755);
    IGNITE_TRY(sys::write_new_file(p, f.content, 0644));
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
  if (total > config_.max_adhoc_bytes)
    return fail(ErrorCode::invalid_argument, "code is larger than " +
                                                 std::to_string(config_.max_adhoc_bytes) + " bytes");
  IGNITE_TRY_ASSIGN(runtime::Installed rt, catalog_.resolve(request.runtime));

  // The staging parent is 0711: the sandbox uid may enter a dir whose random name it is told,
  // other host users cannot list them.
  std::error_code ec;
  fs::create_directories(config_.work_root, ec);
  ::chmod(config_.work_root.c_str(), 0711);
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

  JobReport report;
  report.service_name = "";
  report.runtime = rt.label();
  report.isolation = std::string(backend_.name());
  report.limits = {request.memory_mb, request.timeout_ms, request.cpu_limit, request.network};
  return run_program(service, rt, {request.input_json, request.args, request.stdin_data},
                     std::move(report), stop, sink);
}

}  // namespace ignite::engine
