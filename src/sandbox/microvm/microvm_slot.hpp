// MicroVmSlot: one booted microVM whose agent said hello, run once. Owns, in this order, the
// VM's scratch dir, the VMM's jail, the VMM process (QEMU or firecracker) and the agent
// connection: destroyed in reverse, so the connection closes, the VMM is killed and reaped, its
// cgroup removed and its uid released, then the dir (initramfs, sockets, disk image, console
// log) is removed, on every path.
#pragma once
#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/spec.hpp"
#include "guest/protocol.hpp"
#include "sandbox/backend.hpp"
#include "sandbox/microvm/vm_image.hpp"
#include "sandbox/microvm/vmm_jail.hpp"
#include "sys/child_process.hpp"
#include "sys/fd.hpp"
#include "sys/temp_dir.hpp"

namespace ignite::sandbox::microvm {

struct VmParts {
  sys::TempDir dir;
  VmmJail jail;           // after the VMM is reaped: its cgroup removed, then its uid released
  sys::ChildProcess vmm;  // QEMU or firecracker
  sys::Fd channel;  // connected to the agent's port
  guest::FrameReader reader;
  std::chrono::steady_clock::time_point started;  // QEMU's spawn
  std::chrono::milliseconds kill_grace{15000};
  sys::ChildProcess network;  // a `network: true` VM's passt (user_network.hpp); else none
};

// Reads the next frame from the agent before `deadline`; unavailable when QEMU ended or the
// channel closed first, resource_exhausted (a timeout) at the deadline.
Result<guest::Message> next_message(VmParts& vm, std::chrono::steady_clock::time_point deadline,
                                    std::stop_token stop = {});
// The same on its parts: the channel, its reader, and the QEMU whose end ends the wait.
Result<guest::Message> next_message(int channel, guest::FrameReader& reader, const sys::ChildProcess& qemu,
                                    std::chrono::steady_clock::time_point deadline, std::stop_token stop = {});

// A booting VM's agent: connects to its socket once QEMU listens and waits for its hello (the
// version is checked by the decoder). An agent's error frame fails with the agent's words.
// `reader` keeps what arrived after the hello, for the slot.
// The agent's hello on a connected channel (the version is checked by the decoder).
Status await_hello(int channel, const sys::ChildProcess& vmm, guest::FrameReader& reader,
                   std::chrono::steady_clock::time_point deadline);
Result<sys::Fd> agent_hello(const std::filesystem::path& socket, const sys::ChildProcess& qemu,
                            guest::FrameReader& reader, std::chrono::steady_clock::time_point deadline);

// A warm slot (spec.warm) is a VM whose program, the runtime's bootstrap, was started by
// warm_up() and waits; run() then hands it the job (warm_handoff.hpp), as native's warm slot
// does over its pipes. `drop_hosts`: the slot's own host dirs behind spec.drop_dirs, where the
// job's files are placed before they travel.
class MicroVmSlot final : public Slot {
 public:
  MicroVmSlot(VmParts vm, SandboxSpec spec, SharedPlan plan, std::vector<std::filesystem::path> drop_hosts = {})
      : vm_(std::move(vm)), spec_(std::move(spec)), plan_(std::move(plan)), drop_hosts_(std::move(drop_hosts)) {}
  ~MicroVmSlot() override;
  // Sends the bootstrap and waits, until `deadline`, for its ready marker; the error says why
  // it did not come (the bootstrap's stderr with it).
  Status warm_up(std::chrono::steady_clock::time_point deadline);
  Result<ExecutionResult> run(Job job, std::stop_token stop, const OutputSink& sink) override;
  std::uint64_t resident_bytes() const override { return resident_; }

 private:
  // Frames an idle warm VM sent since its ready marker: stderr is kept as the bootstrap's (the
  // job's, as native's pipe keeps it); anything else means it is not idle: `unavailable`.
  Status drain_idle();
  // A warm slot's hand-off frame for `job`: the VM is still idle, the files are placed, and
  // the bootstrap's header (with a fresh nonce) leads its stdin.
  Result<std::string> hand_off(const Job& job, std::string& nonce);

  VmParts vm_;
  SandboxSpec spec_;
  SharedPlan plan_;
  std::vector<std::filesystem::path> drop_hosts_;
  std::string bootstrap_err_;  // what the bootstrap wrote to stderr before it was ready
  std::uint64_t resident_ = 0;
  bool used_ = false;
};

// Sends `frame` to the VM's agent before `deadline` (`unavailable` past it, or when the VM or
// its channel ends first). What the agent sends meanwhile is read into the VM's reader, so an
// agent blocked on its own output never blocks our send.
Status send_frame(VmParts& vm, std::string_view frame, std::chrono::steady_clock::time_point deadline);

// The agent's job for `spec` (its shared mount plan, limits) with `job`'s argv, env and stdin
// (a cold slot's job has only stdin; a warm slot's job is the spec's bootstrap, with no stdin).
guest::JobMessage job_message(const SandboxSpec& spec, Job job, const SharedPlan& plan);

// The result the agent reported, checked: an outcome we know, codes in range.
Result<ExecutionResult> to_execution_result(const guest::ResultMessage& m, const Limits& limits);

}  // namespace ignite::sandbox::microvm
