#include "sandbox/common/output_dir.hpp"

#include "sys/tree.hpp"

namespace ignite::sandbox {
namespace {

// node_modules trees nest deep (scoped packages inside nested node_modules); beyond this a tree
// is hostile, not a package layout.
constexpr std::uint32_t kMaxOutputDepth = 128;

}  // namespace

Result<std::filesystem::path> output_destination(const SandboxSpec& spec, const Job& job) {
  std::filesystem::path dest = !job.output_dest.empty() || !spec.output ? job.output_dest : spec.output->host_dest;
  if (spec.output && !dest.is_absolute())
    return fail(ErrorCode::internal, "the job names no absolute destination for " + spec.output->target.string());
  return dest;
}

sys::TreeLimits output_tree_limits(const OutputDir& o) { return {o.max_bytes, o.max_entries, kMaxOutputDepth}; }

Status take_output(const OutputDir& o, const std::filesystem::path& dest, int dir, ExecutionResult& r) {
  const bool succeeded = r.outcome == Outcome::exited && r.exit_code == 0;
  if (dir < 0) {
    if (!succeeded) return ok();
    return fail(ErrorCode::internal, "the sandbox did not hand over its output dir");
  }
  auto copied = sys::copy_tree_out(dir, dest, output_tree_limits(o));
  if (copied) {
    r.output = std::move(*copied);
    return ok();
  }
  return refuse_output(o, copied.error(), r);
}

Status refuse_output(const OutputDir& o, const Error& why, ExecutionResult& r) {
  if (o.lenient) {
    r.output_error = o.target.string() + ": " + why.message;
    return ok();
  }
  if (r.outcome != Outcome::exited || r.exit_code != 0) return ok();
  return fail(ErrorCode::invalid_argument, "the program's " + o.target.string() + ": " + why.message);
}

}  // namespace ignite::sandbox
