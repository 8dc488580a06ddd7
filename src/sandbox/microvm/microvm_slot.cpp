#include "sandbox/microvm/microvm_slot.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <optional>
#include <span>

#include <spdlog/spdlog.h>

#include "core/classify.hpp"
#include "core/memory_thrash.hpp"
#include "sandbox/common/handoff.hpp"
#include "sandbox/common/output_capture.hpp"
#include "sandbox/common/output_dir.hpp"
#include "sandbox/microvm/output_receiver.hpp"
#include "sandbox/microvm/vmm_process.hpp"
#include "sandbox/microvm/warm_handoff.hpp"
#include "sandbox/native/seccomp_filter.hpp"
#include "sys/random.hpp"

namespace ignite::sandbox::microvm {
namespace {

using Clock = std::chrono::steady_clock;

// The job is over (its result came, or the deadline): QEMU goes now, and its rusage is the VM's
// cost on the host (the slot is single use; its destructor then finds nothing left to reap).
std::optional<VmmUsage> end_vm(sys::ChildProcess& qemu) {
  (void)qemu.send_signal(SIGKILL);  // already gone is fine
  auto st = qemu.wait();
  if (!st) return std::nullopt;
  return VmmUsage{st->peak_rss_bytes, st->cpu};
}

// The bootstrap's stderr kept for the job (native's pipe holds it the same way), bounded.
void keep_bootstrap_err(std::string& kept, std::string_view more) {
  constexpr std::size_t kMax = 4096;
  kept += more.substr(0, kMax - std::min(kept.size(), kMax));
}

// One read of the agent's channel into its frame reader; false once the channel closed or
// failed (an interrupted read is true, with nothing fed).
bool read_channel(int channel, guest::FrameReader& reader) {
  char buf[64 * 1024];
  const ssize_t n = ::read(channel, buf, sizeof buf);
  if (n > 0) reader.feed(std::string_view(buf, static_cast<std::size_t>(n)));
  return n > 0 || (n < 0 && (errno == EINTR || errno == EAGAIN));
}

}  // namespace

Status send_frame(VmParts& vm, std::string_view frame, Clock::time_point deadline) {
  while (!frame.empty()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return fail(ErrorCode::unavailable, "the VM did not take its job in time");
    pollfd fds[2] = {{vm.channel.get(), POLLOUT | POLLIN, 0}, {vm.vmm.pidfd(), POLLIN, 0}};
    if (::poll(fds, 2, static_cast<int>(std::min<long long>(left, 100))) < 0 && errno != EINTR)
      return fail(Error::from_errno("poll the VM"));
    if (fds[1].revents & POLLIN) return fail(ErrorCode::unavailable, "the VM stopped");
    if (fds[0].revents & POLLIN) {
      if (!read_channel(vm.channel.get(), vm.reader)) return fail(ErrorCode::unavailable, "the VM closed its agent channel");
      // Security: what a guest sends meanwhile is kept for the run, up to a bound.
      if (vm.reader.buffered() > 4 * std::size_t{guest::kMaxGuestFrameBytes})
        return fail(ErrorCode::unavailable, "the VM sent more than it may while its job was sent");
    }
    if (fds[0].revents & (POLLOUT | POLLERR | POLLHUP)) {
      const ssize_t n = ::send(vm.channel.get(), frame.data(), frame.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n > 0) frame.remove_prefix(static_cast<std::size_t>(n));
      if (n <= 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        return fail(ErrorCode::unavailable, "the VM's agent channel closed before its job was sent");
    }
  }
  return ok();
}

Result<guest::Message> next_message(VmParts& vm, Clock::time_point deadline, std::stop_token stop) {
  return next_message(vm.channel.get(), vm.reader, vm.vmm, deadline, std::move(stop));
}

Result<guest::Message> next_message(int channel, guest::FrameReader& reader, const sys::ChildProcess& qemu,
                                    Clock::time_point deadline, std::stop_token stop) {
  for (;;) {
    IGNITE_TRY_ASSIGN(std::optional<std::string> frame, reader.next());
    if (frame) return guest::decode(*frame);
    if (stop.stop_requested()) return fail(ErrorCode::unavailable, "cancelled");
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return fail(ErrorCode::resource_exhausted, "the VM's agent did not answer in time");
    pollfd fds[2] = {{channel, POLLIN, 0}, {qemu.pidfd(), POLLIN, 0}};
    // Short slices: a stop request is seen within 100 ms.
    if (::poll(fds, 2, static_cast<int>(std::min<long long>(left, 100))) < 0 && errno != EINTR)
      return fail(Error::from_errno("poll the VM"));
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      if (!read_channel(channel, reader)) return fail(ErrorCode::unavailable, "the VM closed its agent channel");
      continue;
    }
    if (fds[1].revents & POLLIN) return fail(ErrorCode::unavailable, "the VM stopped");
  }
}

Status await_hello(int channel, const sys::ChildProcess& vmm, guest::FrameReader& reader, Clock::time_point deadline) {
  IGNITE_TRY_ASSIGN(guest::Message hello, next_message(channel, reader, vmm, deadline));
  if (hello.type == "error") return fail(ErrorCode::unavailable, "the agent failed: " + hello.data);
  if (hello.type != "hello") return fail(ErrorCode::unavailable, "the agent's first frame is '" + hello.type + "'");
  return ok();
}

Result<sys::Fd> agent_hello(const std::filesystem::path& socket, const sys::ChildProcess& qemu,
                            guest::FrameReader& reader, Clock::time_point deadline) {
  IGNITE_TRY_ASSIGN(sys::Fd channel, connect_when_listening(socket, qemu, deadline));
  IGNITE_TRY(await_hello(channel.get(), qemu, reader, deadline));
  return channel;
}

guest::JobMessage job_message(const SandboxSpec& spec, Job job, const SharedPlan& plan) {
  guest::JobMessage m;
  m.argv = job.argv.empty() ? spec.argv : std::move(job.argv);
  m.env = job.env.empty() ? spec.env : std::move(job.env);
  m.workdir = (job.argv.empty() ? spec.workdir : job.workdir).string();
  m.plan = plan.ops;
  m.uid = plan.id.uid;
  m.gid = plan.id.gid;
  if (spec.output) {
    m.output_dir = spec.output->target.string();
    const sys::TreeLimits tree = output_tree_limits(*spec.output);
    m.output_max_bytes = tree.max_bytes;
    m.output_max_entries = tree.max_entries;
    m.output_max_depth = tree.max_depth;
  }
  m.stdin_data = job.stdin_data.empty() ? spec.stdin_data : std::move(job.stdin_data);
  const Limits& l = spec.limits;
  m.wall_ms = static_cast<std::uint64_t>(l.wall_time.count());
  m.memory_bytes = l.memory_bytes;
  m.cpu_cores = l.cpu_cores;
  m.max_processes = l.max_processes;
  m.max_output_bytes = l.max_output_bytes;
  m.max_file_bytes = l.max_file_bytes;
  m.tmp_bytes = l.tmp_bytes;
  m.max_open_files = l.max_open_files;
  m.stack_bytes = l.stack_bytes;
  // Native's default policy, its notify variant: the agent receives the notification, names the
  // call and kills the job, as native's supervisor does (the guest kernel has user notification).
  const native::SeccompFilter filter = native::default_seccomp_filter(true);
  const sock_fprog* prog = filter.program();
  m.seccomp.assign(reinterpret_cast<const char*>(prog->filter), prog->len * sizeof(sock_filter));
  m.seccomp_notify = filter.notify_kills();
  // Per job, from the host's CRNG: what makes two clones of one template draw different bytes.
  m.seed.resize(64);
  sys::random_bytes(std::span(reinterpret_cast<std::uint8_t*>(m.seed.data()), m.seed.size()));
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  m.realtime_ns = static_cast<std::uint64_t>(now.tv_sec) * 1000000000u + static_cast<std::uint64_t>(now.tv_nsec);
  m.warm = spec.warm;
  for (std::size_t i = 0; i < spec.drop_dirs.size(); ++i) m.drops.push_back(guest_drop_dir(i));
  return m;
}

Result<ExecutionResult> to_execution_result(const guest::ResultMessage& m, const Limits& limits) {
  // Security: the guest's numbers are reports, not facts: kept within what they can be.
  if (m.exit_code < 0 || m.exit_code > 255) return fail(ErrorCode::internal, "agent protocol: exit code out of range");
  if (m.signal < 0 || m.signal > 64 || (m.outcome == "signaled" && m.signal == 0))
    return fail(ErrorCode::internal, "agent protocol: signal out of range");
  // The agent's outcome, judged by the same code as native's (core/classify): a call the agent
  // stopped (or SIGSYS from the kernel's own kill) is syscall_blocked, and the details read alike.
  RunEnd end;
  if (m.outcome == "exited") {
    end = {RunEnd::By::program, W_EXITCODE(m.exit_code, 0), false};
  } else if (m.outcome == "signaled") {
    end = {RunEnd::By::program, W_EXITCODE(0, m.signal), false};
  } else if (m.outcome == "wall_time_exceeded") {
    end = {RunEnd::By::timeout, std::nullopt, false};
  } else if (m.outcome == "syscall_blocked") {
    if (m.blocked_nr < 0) return fail(ErrorCode::internal, "agent protocol: a blocked call without its number");
    end = {RunEnd::By::blocked_syscall, std::nullopt, false};
  } else if (m.outcome == "memory_exceeded") {
    end = m.detail == kThrashKillDetail ? RunEnd{RunEnd::By::memory_thrash, std::nullopt, false}
                                        : RunEnd{RunEnd::By::program, W_EXITCODE(0, SIGKILL), true};
  } else {
    return fail(ErrorCode::internal, "agent protocol: an unknown outcome '" + m.outcome.substr(0, 32) + "'");
  }
  ExecutionResult r;
  classify(r, end);
  if (r.outcome == Outcome::syscall_blocked && m.outcome == "syscall_blocked") {
    // Named here from the two numbers (the guest sends no text for it), as native names it.
    r.blocked_syscall = native::syscall_name(m.blocked_nr, m.blocked_arch);
    r.detail = "blocked syscall: " + r.blocked_syscall;
  }
  r.stdout_truncated = m.stdout_truncated;
  r.stderr_truncated = m.stderr_truncated;
  const auto wall_cap = std::chrono::duration_cast<std::chrono::microseconds>(limits.wall_time) + std::chrono::seconds(5);
  r.usage.wall = std::min(std::chrono::microseconds(static_cast<std::int64_t>(std::min<std::uint64_t>(m.wall_us, 1ull << 50))), wall_cap);
  r.usage.cpu = std::chrono::microseconds(static_cast<std::int64_t>(std::min<std::uint64_t>(m.cpu_us, 1ull << 50)));
  r.usage.peak_memory_bytes = std::min(m.peak_memory_bytes, limits.memory_bytes);
  r.usage.pids_peak = std::min(m.pids_peak, limits.max_processes);
  return r;
}

MicroVmSlot::~MicroVmSlot() = default;

Status MicroVmSlot::warm_up(Clock::time_point deadline) {
  if (auto sent = send_frame(vm_, guest::job_frame(job_message(spec_, Job{}, plan_)), deadline); !sent)
    return fail(std::move(sent).error().with_context("microvm: the warm slot's bootstrap"));
  std::string out;
  auto failed = [&](const std::string& what) {
    return fail(ErrorCode::internal, "warm slot: " + what + (bootstrap_err_.empty() ? "" : ": " + bootstrap_err_));
  };
  while (out.size() < kReadyMarker.size()) {
    auto m = next_message(vm_, deadline);
    if (!m) return failed("the bootstrap did not say it is ready: " + m.error().message);
    if (m->type == "output" && m->stream == guest::Stream::err) {
      keep_bootstrap_err(bootstrap_err_, m->data);
    } else if (m->type == "output") {
      out += m->data;
    } else if (m->type == "result") {
      return failed("the bootstrap exited");
    } else if (m->type == "error") {
      // The agent's text names host paths of the mount plan: it goes to the log, not the caller.
      spdlog::warn("microvm: the guest agent failed: {}", m->data.substr(0, 512));
      return failed("the guest agent could not start the bootstrap (details in the log)");
    } else {
      return failed("agent protocol: an unexpected '" + m->type + "' frame");
    }
  }
  if (out != kReadyMarker) return failed("the bootstrap wrote something else than its ready marker");
  resident_ = vmm_resident_bytes(vm_.vmm.pid());
  return ok();
}

Status MicroVmSlot::drain_idle() {
  for (;;) {
    auto frame = vm_.reader.next();
    if (!frame) return fail(ErrorCode::unavailable, "the idle VM broke the protocol");
    if (*frame) {
      auto m = guest::decode(**frame);
      if (!m || m->type != "output" || m->stream != guest::Stream::err)
        return fail(ErrorCode::unavailable, "the warm slot's bootstrap wrote or ended while idle");
      keep_bootstrap_err(bootstrap_err_, m->data);
      continue;
    }
    pollfd p{vm_.channel.get(), POLLIN, 0};
    if (::poll(&p, 1, 0) <= 0) return ok();
    if (!read_channel(vm_.channel.get(), vm_.reader)) return fail(ErrorCode::unavailable, "the idle VM closed its agent channel");
  }
}

Result<std::string> MicroVmSlot::hand_off(const Job& job, std::string& nonce) {
  IGNITE_TRY(drain_idle());
  IGNITE_TRY_ASSIGN(HandOff h, prepare_hand_off(job, vm_.vmm.pidfd(), vm_.channel.get(), spec_.drop_dirs, drop_hosts_));
  guest::HandOffMessage m;
  IGNITE_TRY_ASSIGN(m.entries, handoff_entries(drop_hosts_));
  m.stdin_data = std::move(h.stdin_data);
  nonce = std::move(h.nonce);
  std::string frame = guest::handoff_frame(m);
  // Whole, or the agent refuses it: then the job runs cold, its files in the VM's share.
  if (frame.size() - 4 > guest::kMaxFrameBytes)
    return fail(ErrorCode::unavailable, "microvm: the job's files and stdin are more than a hand-off carries");
  return frame;
}

Result<ExecutionResult> MicroVmSlot::run(Job job, std::stop_token stop, const OutputSink& sink) {
  if (used_) return fail(ErrorCode::internal, "a microvm slot runs once");
  used_ = true;
  const auto run_called = Clock::now();
  const Limits limits = spec_.limits;
  IGNITE_TRY_ASSIGN(const std::filesystem::path output_dest, output_destination(spec_, job));
  // The output dir's tree arrives before the result; staged in the VM's dir, gone on every path.
  std::optional<OutputReceiver> tree;
  if (spec_.output) {
    auto staging = OutputReceiver::create(vm_.dir.path(), output_tree_limits(*spec_.output));
    if (!staging) return fail(std::move(staging).error().with_context("microvm"));
    tree.emplace(std::move(*staging));
  }
  std::string nonce;
  std::string frame;
  if (spec_.warm) {
    IGNITE_TRY_ASSIGN(frame, hand_off(job, nonce));
  } else {
    frame = guest::job_frame(job_message(spec_, std::move(job), plan_));
  }
  // Nothing of the job runs before the agent has the whole frame: a failed send is `unavailable`.
  if (auto sent = send_frame(vm_, frame, run_called + limits.wall_time + vm_.kill_grace); !sent)
    return fail(std::move(sent).error().with_context("microvm"));
  // The job's clock: a warm slot's from the hand-off; a cold slot's setup is its boot.
  const auto handed = spec_.warm ? Clock::now() : run_called;
  const auto setup = std::chrono::duration_cast<std::chrono::microseconds>(spec_.warm ? handed - run_called
                                                                                      : handed - vm_.started);

  std::string out, err;
  bool out_cut = false, err_cut = false;
  OutputCapture capture_out(Stream::out, limits.max_output_bytes, out, out_cut);
  OutputCapture capture_err(Stream::err, limits.max_output_bytes, err, err_cut);
  // What the bootstrap wrote to stderr as it started is the job's, as on native (its pipe).
  if (!bootstrap_err_.empty()) capture_err.append(bootstrap_err_, sink);
  // The host's own deadline, the backstop behind the agent's: QEMU is killed there.
  const auto deadline = handed + limits.wall_time + vm_.kill_grace;
  for (;;) {
    auto message = next_message(vm_, deadline, stop);
    if (!message) {
      ExecutionResult r;
      if (stop.stop_requested()) {
        r.outcome = Outcome::cancelled;
      } else if (message.error().code == ErrorCode::resource_exhausted) {
        r.outcome = Outcome::wall_time_exceeded;
        r.detail = "the VM did not report within its wall-time limit; it was killed";
      } else {
        // Security: after the hand-off the job may have run (and a program that owns the guest
        // kernel chooses when the VM ends): never `unavailable`, which a pool retries cold.
        Error e = std::move(message).error().with_context("microvm");
        if (spec_.warm && e.code == ErrorCode::unavailable) e.code = ErrorCode::internal;
        return fail(std::move(e));
      }
      r.vmm = end_vm(vm_.vmm);
      r.signal = SIGKILL;
      r.stdout_data = std::move(out);
      r.stderr_data = std::move(err);
      r.stdout_truncated = out_cut;
      r.stderr_truncated = err_cut;
      r.usage.wall = std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - handed);
      r.setup = setup;
      r.warm = spec_.warm;
      // The VM never finished its tree: no output (the run did not succeed, so no error).
      if (spec_.output) IGNITE_TRY(take_output(*spec_.output, output_dest, -1, r));
      return r;
    }
    if (message->type == "output") {
      (message->stream == guest::Stream::out ? capture_out : capture_err)
          .append(message->data, sink);
    } else if (message->type == "file" && message->file && tree) {
      tree->entry(*message->file);
    } else if (message->type == "fileData" && tree) {
      tree->data(message->data);
    } else if (message->type == "result" && message->result) {
      IGNITE_TRY_ASSIGN(ExecutionResult r, to_execution_result(*message->result, limits));
      if (auto e = exec_failure_error(out, nonce)) {
        end_vm(vm_.vmm);
        return fail(std::move(*e));
      }
      r.stdout_data = std::move(out);
      r.stderr_data = std::move(err);
      r.stdout_truncated = r.stdout_truncated || out_cut;
      r.stderr_truncated = r.stderr_truncated || err_cut;
      r.setup = setup;
      r.warm = spec_.warm;
      r.vmm = end_vm(vm_.vmm);
      if (tree) {
        if (message->result->output_incomplete) tree->incomplete();
        // The staged tree goes through the native and docker backends' own copy and checks.
        auto staged = tree->finish();
        if (staged) {
          IGNITE_TRY(take_output(*spec_.output, output_dest, *staged, r));
        } else {
          IGNITE_TRY(refuse_output(*spec_.output, staged.error(), r));
        }
      }
      return r;
    } else if (message->type == "error") {
      // The agent's text names host paths of the mount plan: it goes to the log, not the caller.
      spdlog::warn("microvm: the guest agent failed: {}", message->data.substr(0, 512));
      return fail(ErrorCode::internal, "microvm: the guest agent could not set the job up (details in the log)");
    } else {
      return fail(ErrorCode::internal, "microvm: agent protocol: an unexpected '" + message->type + "' frame");
    }
  }
}

}  // namespace ignite::sandbox::microvm
