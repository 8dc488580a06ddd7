#include "sandbox/native/native_slot.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>

#include "core/classify.hpp"
#include "sandbox/common/handoff.hpp"
#include "sandbox/common/output_dir.hpp"
#include "sandbox/native/child.hpp"
#include "sandbox/native/egress_proxy.hpp"
#include "sandbox/native/handover.hpp"
#include "sandbox/native/run_result.hpp"
#include "sandbox/native/seccomp_filter.hpp"
#include "sandbox/native/supervisor.hpp"
#include "sys/files.hpp"
#include "sys/no_sigpipe.hpp"

namespace ignite::sandbox::native {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using std::chrono::duration_cast;
using std::chrono::microseconds;

// What a run without a cgroup does not get, for ExecutionResult::degradations.
std::vector<std::string> degradations(bool have_cgroup, bool in_user_namespace, bool private_inodes) {
  std::vector<std::string> d;
  if (!private_inodes)
    d.emplace_back("files: no overlayfs; read-only files are shared with concurrent runs (flock, inotify)");
  if (!have_cgroup) {
    d.emplace_back("memory: no cgroup limit; RLIMIT_DATA caps each process's writable memory");
    d.emplace_back("processes: no cgroup pids limit; RLIMIT_NPROC counts the host user's processes");
    d.emplace_back("cpu: no cgroup quota; only the wall-clock timeout bounds CPU use");
    d.emplace_back("metrics: peak memory is the program's own peak RSS, not the whole sandbox");
  }
  if (in_user_namespace)
    d.emplace_back("identity: rootless; the sandbox runs as the invoking user in a user namespace");
  return d;
}

Result<EgressPolicy> egress_policy(const Egress& egress) {
  std::vector<Cidr> allowed;
  for (const auto& text : egress.allow) {
    IGNITE_TRY_ASSIGN(Cidr c, parse_cidr(text));
    allowed.push_back(c);
  }
  return EgressPolicy(std::move(allowed), EgressPolicy::local_addresses());
}

Status make_socketpair(sys::Fd& parent, sys::Fd& child) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
    return fail(Error::from_errno("socketpair"));
  parent.reset(sv[0]);
  child.reset(sv[1]);
  return ok();
}

}  // namespace

Result<RunPipes> make_run_pipes(bool notify, bool handover) {
  RunPipes p;
  if (notify) IGNITE_TRY(make_socketpair(p.notify_parent, p.notify_child));
  if (handover) IGNITE_TRY(make_socketpair(p.handover_parent, p.handover_child));
  IGNITE_TRY_ASSIGN(p.sync, sys::make_pipe());
  IGNITE_TRY_ASSIGN(p.report, sys::make_pipe());
  IGNITE_TRY_ASSIGN(p.exec, sys::make_pipe());
  IGNITE_TRY_ASSIGN(p.in, sys::make_pipe());
  IGNITE_TRY_ASSIGN(p.out, sys::make_pipe());
  IGNITE_TRY_ASSIGN(p.err, sys::make_pipe());
  return p;
}

Status name_child_fds(ChildArgs& args, const RunPipes& pipes, std::span<const sys::Fd> v1_cgroup_fds) {
  args.sync_fd = pipes.sync.read.get();
  args.report_fd = pipes.report.write.get();
  args.exec_fd = pipes.exec.write.get();
  args.stdin_fd = pipes.in.read.get();
  args.stdout_fd = pipes.out.write.get();
  args.stderr_fd = pipes.err.write.get();
  args.notify_fd = pipes.notify_child.get();
  args.handover_fd = pipes.handover_child.get();
  if (v1_cgroup_fds.size() > std::size(args.cgroup_fds)) return fail(ErrorCode::internal, "too many cgroup hierarchies");
  for (std::size_t i = 0; i < v1_cgroup_fds.size(); ++i) args.cgroup_fds[i] = v1_cgroup_fds[i].get();
  return ok();
}

Status NativeSlot::join() {
  if (p_.cgroup && p_.parent_joins_cgroup) {
    if (auto joined = p_.cgroup->add(init_.pid()); !joined)
      return fail(std::move(joined).error().with_context("join cgroup"));
  }
  if (!p_.in_user_namespace) return ok();
  const std::string base = "/proc/" + std::to_string(init_.pid());
  IGNITE_TRY(sys::write_file(base + "/setgroups", "deny"));
  IGNITE_TRY(sys::write_file(base + "/uid_map", "0 " + std::to_string(::geteuid()) + " 1\n"));
  IGNITE_TRY(sys::write_file(base + "/gid_map", "0 " + std::to_string(::getegid()) + " 1\n"));
  return ok();
}

Status NativeSlot::release() {
  if (p_.released) return ok();
  p_.released = true;
  sys::NoSigpipe no_sigpipe;
  if (::write(p_.pipes.sync.write.get(), "g", 1) == 1) {
    p_.pipes.sync.write.reset();
    return ok();
  }
  Error released = Error::from_errno("release child");
  if (released.sys_errno != EPIPE) return fail(std::move(released));
  // Init is gone already: its setup before the release failed (joining its cgroup), and its
  // report says why.
  if (auto why = setup_failure()) return fail(std::move(*why));
  return fail(std::move(released));
}

std::optional<Error> NativeSlot::setup_failure() {
  (void)init_.send_signal(SIGKILL);
  (void)init_.wait();
  return reported_setup_failure(p_.pipes.report.read.get(), &p_.plan);  // init is reaped: up to EOF
}

Status NativeSlot::warm_up(std::chrono::milliseconds timeout) {
  IGNITE_TRY(release());
  if (auto what = await_ready(p_.pipes.out.read.get(), init_.pidfd(), timeout)) {
    (void)init_.send_signal(SIGKILL);
    (void)init_.wait();
    return fail(ErrorCode::internal,
                bootstrap_failure(*what, p_.pipes.report.read.get(), p_.pipes.err.read.get(), &p_.plan));
  }
  if (p_.cgroup) resident_ = p_.cgroup->usage().memory_current_bytes;
  return ok();
}

bool NativeSlot::reaches_host() const {
  return p_.spec.limits.network ||
         std::any_of(p_.spec.mounts.begin(), p_.spec.mounts.end(), [](const Mount& m) { return m.writable; });
}

// release -> supervise -> measure -> classify; the destructor undoes everything.
Result<ExecutionResult> NativeSlot::run(Job job, std::stop_token stop, const OutputSink& sink) {
  if (used_) return fail(ErrorCode::internal, "a slot runs one job only");
  used_ = true;
  const SandboxSpec& spec = p_.spec;
  const auto run_called = Clock::now();
  IGNITE_TRY_ASSIGN(const std::filesystem::path output_dest, output_destination(spec, job));
  std::string stdin_data, nonce;
  CgroupUsage baseline;
  if (spec.warm) {
    IGNITE_TRY_ASSIGN(HandOff h, prepare_hand_off(job, init_.pidfd(), p_.pipes.out.read.get(), p_.spec.drop_dirs,
                                                  p_.drop_hosts));
    stdin_data = std::move(h.stdin_data);
    nonce = std::move(h.nonce);
    // Single use, exact accounting: what the bootstrap used is not the job's.
    if (p_.cgroup) baseline = p_.cgroup->begin_job();
    p_.pipes.exec.read.reset();  // the bootstrap's execve was long ago: the clock starts now
  } else {
    stdin_data = std::move(job.stdin_data);
    IGNITE_TRY(release());
  }

  // supervise
  SupervisionLimits sl{.wall_time = spec.limits.wall_time, .max_output_bytes = spec.limits.max_output_bytes};
  Handover handed;
  if (p_.pipes.handover_parent)
    handed = receive_handover(p_.pipes.handover_parent.get(), init_, spec.output.has_value(),
                              spec.egress.has_value(), sl.setup_time);
  std::unique_ptr<EgressProxy> proxy;
  if (handed.egress_listener) {
    IGNITE_TRY_ASSIGN(EgressPolicy policy, egress_policy(*spec.egress));
    IGNITE_TRY_ASSIGN(proxy, EgressProxy::create(std::move(handed.egress_listener), std::move(policy)));
  }
  SupervisedFds fds{&init_, std::move(p_.pipes.exec.read), std::move(p_.pipes.out.read),
                    std::move(p_.pipes.err.read), std::move(p_.pipes.in.write),
                    std::move(p_.pipes.notify_parent), std::move(p_.pipes.report.read), proxy.get(), {}, {}};
  if (p_.cgroup) fds.thrash = p_.cgroup->thrash_watch(spec.limits.memory_bytes);
  IGNITE_TRY_ASSIGN(Supervision sup, supervise(std::move(fds), stdin_data, sl, stop, sink));
  // Reaped here when it is gone already; else init is tearing the sandbox down, and the
  // destructor reaps it (off the caller's path when a pool destroys the slot).
  if (sup.init_exited) (void)init_.wait();

  // measure + classify
  RunFacts facts{.warm = spec.warm,
                 .setup_from = spec.warm ? run_called : p_.started,
                 .nonce = nonce,
                 .usage = p_.cgroup ? std::optional<CgroupUsage>(p_.cgroup->usage(baseline)) : std::nullopt,
                 .degradations = degradations(p_.cgroup.has_value(), p_.in_user_namespace, p_.private_inodes),
                 .plan = &p_.plan};
  if (spec.warm && !p_.cgroup)
    facts.degradations.emplace_back("metrics: without a cgroup, a warm slot's CPU time includes its bootstrap's");
  IGNITE_TRY_ASSIGN(ExecutionResult r, result_of(sup, std::move(facts)));
  // Everything in the sandbox is dead now; the tmpfs lives on through our fd alone.
  if (spec.output) IGNITE_TRY(take_output(*spec.output, output_dest, handed.out_dir.get(), r));
  return r;
}

}  // namespace ignite::sandbox::native
