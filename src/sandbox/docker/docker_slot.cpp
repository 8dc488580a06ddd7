#include "sandbox/docker/docker_slot.hpp"

#include <poll.h>

#include <csignal>

#include "sandbox/common/handoff.hpp"
#include "sandbox/common/output_dir.hpp"
#include "sandbox/native/run_result.hpp"
#include "sandbox/native/supervisor.hpp"

namespace ignite::sandbox::docker {

using Clock = std::chrono::steady_clock;

namespace {

// Whether the process behind `pidfd` has ended within `ms`.
bool ended(int pidfd, int ms) {
  pollfd gone{pidfd, POLLIN, 0};
  return ::poll(&gone, 1, ms) > 0;
}

}  // namespace

DockerSlot::~DockerSlot() {
  // The container ends with its PID 1. Our dirs go now, once it is gone (nothing of the run
  // can still write into them); the container itself and the uid go to the reaper, off the
  // caller's path (removing a container takes the daemon ~20 ms).
  if (init_) {
    (void)init_.send_signal(SIGKILL);
    (void)ended(init_.pidfd(), 2000);
  }
  p_.remains.scratch.reset();
  if (reap_) reap_(std::move(p_.remains));
}

Status DockerSlot::release() {
  if (p_.released) return ok();
  p_.released = true;
  IGNITE_TRY(send_start(p_.init.sock.get(), p_.start));
  // Only the init (and then the program) holds the other ends now: EOF means they are done.
  for (sys::Fd* fd : {&p_.in.read, &p_.out.write, &p_.err.write, &p_.report.write, &p_.exec.write, &p_.notify_child})
    fd->reset();
  return ok();
}

Status DockerSlot::warm_up(std::chrono::milliseconds timeout) {
  IGNITE_TRY(release());
  if (auto what = await_ready(p_.out.read.get(), init_.pidfd(), timeout)) {
    // The container ends with its init; the report pipe then reads to EOF.
    (void)init_.send_signal(SIGKILL);
    return fail(ErrorCode::internal,
                native::bootstrap_failure(*what, p_.report.read.get(), p_.err.read.get(), nullptr));
  }
  resident_ = p_.cgroup->usage().memory_current_bytes;
  return ok();
}

// release (or hand-off) -> supervise -> measure -> classify, as the native slot does: the
// program runs under the same supervisor, reports through the same records, and is measured
// in our cgroup above the container.
Result<ExecutionResult> DockerSlot::run(Job job, std::stop_token stop, const OutputSink& sink) {
  if (used_) return fail(ErrorCode::internal, "a slot runs one job only");
  used_ = true;
  const SandboxSpec& spec = p_.spec;
  const auto run_called = Clock::now();
  IGNITE_TRY_ASSIGN(const std::filesystem::path output_dest, output_destination(spec, job));
  std::string stdin_data, nonce;
  // Usage counts from here: what runc's setup or a warm bootstrap used is not the program's.
  native::CgroupUsage baseline = p_.cgroup->begin_job();
  if (spec.warm) {
    IGNITE_TRY_ASSIGN(HandOff h, prepare_hand_off(job, init_.pidfd(), p_.out.read.get(), spec.drop_dirs, p_.drop_hosts));
    stdin_data = std::move(h.stdin_data);
    nonce = std::move(h.nonce);
    p_.exec.read.reset();  // the bootstrap's execve was long ago: the clock starts now
  } else {
    stdin_data = std::move(job.stdin_data);
    IGNITE_TRY(release());
  }

  native::SupervisionLimits sl{.wall_time = spec.limits.wall_time, .max_output_bytes = spec.limits.max_output_bytes};
  // The counters live in docker's cgroup, which goes with the container: read them before a
  // kill ends it, else once the program is done (the init waits for us until then).
  std::optional<native::CgroupUsage> usage;
  native::SupervisedFds fds{&init_, std::move(p_.exec.read), std::move(p_.out.read), std::move(p_.err.read),
                            std::move(p_.in.write), std::move(p_.notify_parent), std::move(p_.report.read), nullptr, {}, {}};
  fds.before_kill = [&] { usage = p_.cgroup->usage(baseline); };
  fds.thrash = p_.cgroup->thrash_watch(spec.limits.memory_bytes);
  IGNITE_TRY_ASSIGN(native::Supervision sup, native::supervise(std::move(fds), stdin_data, sl, stop, sink));
  if (!usage) usage = p_.cgroup->usage(baseline);
  p_.init.sock.reset();  // the init exits, and the container with it

  native::RunFacts facts{.warm = spec.warm,
                         .setup_from = spec.warm ? run_called : p_.started,
                         .nonce = nonce,
                         .usage = usage,
                         .degradations = {},
                         .plan = nullptr};
  IGNITE_TRY_ASSIGN(ExecutionResult r, native::result_of(sup, std::move(facts)));
  if (spec.output) {
    // The init kills and reaps all the program left before it reports, and a killed init takes
    // its PID namespace along: once it is gone, nothing can write to /out any more, and the
    // tmpfs lives on through our fd alone.
    if (!ended(init_.pidfd(), 2000)) {
      (void)init_.send_signal(SIGKILL);
      if (!ended(init_.pidfd(), 2000)) return fail(ErrorCode::internal, "the container's init did not end");
    }
    IGNITE_TRY(take_output(*spec.output, output_dest, p_.out_dir.get(), r));
  }
  return r;
}

}  // namespace ignite::sandbox::docker
