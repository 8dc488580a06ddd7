#include "core/spec.hpp"

#include <algorithm>

#include "core/number_text.hpp"

namespace ignite {
namespace {

Status check_path(const std::filesystem::path& p, std::string_view what) {
  if (!p.is_absolute()) return fail(ErrorCode::invalid_argument, std::string(what) + " must be absolute: " + p.string());
  for (const auto& part : p) {
    if (part == "..") return fail(ErrorCode::invalid_argument, std::string(what) + " must not contain '..': " + p.string());
  }
  return ok();
}

}  // namespace

Status validate(const SandboxSpec& spec, const Limits& ceilings) {
  if (spec.argv.empty() || spec.argv[0].empty()) return fail(ErrorCode::invalid_argument, "argv is empty");
  IGNITE_TRY(check_path(spec.argv[0], "argv[0]"));
  IGNITE_TRY(check_path(spec.workdir, "workdir"));
  for (const auto& m : spec.mounts) {
    IGNITE_TRY(check_path(m.source, "mount source"));
    IGNITE_TRY(check_path(m.target, "mount target"));
    if (m.target == "/") return fail(ErrorCode::invalid_argument, "mount target must not be /");
  }
  for (const auto& f : spec.files) IGNITE_TRY(check_path(f.target, "file target"));
  if (spec.output) {
    IGNITE_TRY(check_path(spec.output->target, "output target"));
    // A warm slot's output goes where its job says (sandbox::Job::output_dest).
    if (!spec.warm || !spec.output->host_dest.empty())
      IGNITE_TRY(check_path(spec.output->host_dest, "output destination"));
    if (spec.warm && !spec.output->seed.empty())
      return fail(ErrorCode::invalid_argument, "a warm slot's output dir starts empty (no seed)");
    if (spec.output->target == "/") return fail(ErrorCode::invalid_argument, "output target must not be /");
    for (const auto& f : spec.output->seed) {
      if (f.target.is_absolute() || f.target.empty() || f.target.filename() != f.target)
        return fail(ErrorCode::invalid_argument, "output seed must be a plain file name: " + f.target.string());
    }
  }
  for (const auto& d : spec.drop_dirs) {
    IGNITE_TRY(check_path(d, "drop dir"));
    if (d == "/") return fail(ErrorCode::invalid_argument, "drop dir must not be /");
  }
  if (spec.warm && spec.egress) return fail(ErrorCode::invalid_argument, "a warm slot has no egress");
  for (const auto& e : spec.env) {
    if (e.find('=') == std::string::npos || e.front() == '=')
      return fail(ErrorCode::invalid_argument, "env entry is not KEY=value: " + e);
    if (e.find('\0') != std::string::npos) return fail(ErrorCode::invalid_argument, "env entry contains NUL");
  }
  const Limits& l = spec.limits;
  auto over = [](auto v, auto max) { return v == 0 || v > max; };
  if (l.wall_time.count() <= 0 || l.wall_time > ceilings.wall_time)
    return fail(ErrorCode::invalid_argument, "wall time limit out of range");
  if (over(l.memory_bytes, ceilings.memory_bytes)) return fail(ErrorCode::invalid_argument, "memory limit out of range");
  if (!(l.cpu_cores >= kMinCpuCores) || l.cpu_cores > ceilings.cpu_cores)
    return fail(ErrorCode::invalid_argument,
                "cpu limit " + format_number(l.cpu_cores) + " is out of range (" +
                    format_number(kMinCpuCores) + " to " + format_number(ceilings.cpu_cores) +
                    " cores; " + std::string(kMinCpuCoresReason) + ")");
  if (over(l.max_processes, ceilings.max_processes)) return fail(ErrorCode::invalid_argument, "process limit out of range");
  if (over(l.max_output_bytes, ceilings.max_output_bytes)) return fail(ErrorCode::invalid_argument, "output limit out of range");
  if (over(l.max_file_bytes, ceilings.max_file_bytes)) return fail(ErrorCode::invalid_argument, "file size limit out of range");
  if (over(l.tmp_bytes, ceilings.tmp_bytes)) return fail(ErrorCode::invalid_argument, "/tmp size out of range");
  if (over(l.max_open_files, ceilings.max_open_files)) return fail(ErrorCode::invalid_argument, "open files limit out of range");
  if (l.network && !ceilings.network) return fail(ErrorCode::invalid_argument, "network is not allowed by the operator");
  if (l.network && spec.egress)
    return fail(ErrorCode::invalid_argument, "a run has either the host's network or egress through the proxy");
  return ok();
}

}  // namespace ignite
