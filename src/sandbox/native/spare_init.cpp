#include "sandbox/native/spare_init.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <spdlog/spdlog.h>

#include "sandbox/native/child_wire.hpp"
#include "sys/no_sigpipe.hpp"
#include "sys/pipe.hpp"
#include "sys/write_all.hpp"

namespace ignite::sandbox::native {
namespace {

// Everything start() makes before the clone that does not depend on the run, then the clone.
Result<SpareInit> start_spare(const SpareRecipe& r, const std::string& cgroup_name) {
  SpareInit s;
  int cgroup_dir = -1;  // v2: CLONE_INTO_CGROUP
  if (r.layout->version != CgroupVersion::none) {
    IGNITE_TRY_ASSIGN(Cgroup cg, Cgroup::create(*r.layout, cgroup_name, CgroupLimits{}));
    s.cgroup.emplace(std::move(cg));
    IGNITE_TRY_ASSIGN(s.join_fds, s.cgroup->open_for_join());
    if (r.layout->version == CgroupVersion::v2 && !s.join_fds.empty()) cgroup_dir = s.join_fds.front().get();
  }
  IGNITE_TRY_ASSIGN(s.pipes, make_run_pipes(r.notify, true));
  IGNITE_TRY_ASSIGN(sys::Pipe args, sys::make_pipe());
  // Init keeps every fd a run's ChildArgs may name: the same naming start() uses.
  ChildArgs named;
  const bool v1 = r.layout->version == CgroupVersion::v1;
  IGNITE_TRY(name_child_fds(named, s.pipes, v1 ? std::span<const sys::Fd>(s.join_fds) : std::span<const sys::Fd>()));
  std::vector<int> keep = child_fds(named);
  keep.push_back(args.read.get());
  IGNITE_TRY_ASSIGN(EarlyInit init, launch_init_early(r.init_binary, std::move(keep), args.read.get(),
                                                      named.report_fd, ::geteuid() != 0, cgroup_dir));
  s.init.emplace(std::move(init));
  s.args = std::move(args.write);
  return s;
}

}  // namespace

std::string run_cgroup_name(const std::string& run_prefix, const sys::TempDir& scratch) {
  return run_prefix + scratch.path().filename().string();
}

SpareStarter::SpareStarter(const SpareRecipe& recipe) {
  auto scratch = sys::TempDir::create(recipe.scratch_root, "run-");
  if (!scratch) {
    spdlog::debug("no spare sandbox init: {}", scratch.error().message);
    return;
  }
  scratch_.emplace(std::move(*scratch));
  started_.emplace(start_spare(recipe, run_cgroup_name(recipe.run_prefix, *scratch_)));
}

std::optional<sys::TempDir> SpareStarter::take_scratch(bool host_network) {
  std::lock_guard lock(mu_);
  if (host_network || !scratch_) return std::nullopt;
  std::optional<sys::TempDir> taken(std::move(*scratch_));
  scratch_.reset();
  return taken;
}

std::optional<SpareInit> SpareStarter::take_init() {
  std::lock_guard lock(mu_);
  if (!started_) return std::nullopt;
  Result<SpareInit> started = std::move(*started_);
  started_.reset();
  if (!started) {
    spdlog::debug("no spare sandbox init: {}", started.error().message);
    return std::nullopt;
  }
  return std::optional<SpareInit>(std::move(*started));
}

LaunchedInit hand_arguments(SpareInit& spare, const ChildArgs& args) {
  sys::NoSigpipe no_sigpipe;
  if (!sys::write_all(spare.args.get(), encode_child_args(args)))
    spdlog::debug("spare sandbox init: writing its arguments: {}", std::strerror(errno));
  spare.args.reset();
  return std::move(spare.init->init);
}

}  // namespace ignite::sandbox::native
