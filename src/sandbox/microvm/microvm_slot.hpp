// MicroVmSlot: one booted microVM whose agent said hello, run once. Owns, in this order, the
// VM's scratch dir, the VMM's jail, the VMM process (QEMU or firecracker) and the agent
// connection: destroyed in reverse, so the connection closes, the VMM is killed and reaped, its
// cgroup removed and its uid released, then the dir (initramfs, sockets, disk image, console
// log) is removed, on every path.
#pragma once
#include <chrono>
#include <filesystem>
#include <string>

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

class MicroVmSlot final : public Slot {
 public:
  MicroVmSlot(VmParts vm, SandboxSpec spec, SharedPlan plan)
      : vm_(std::move(vm)), spec_(std::move(spec)), plan_(std::move(plan)) {}
  ~MicroVmSlot() override;
  Result<ExecutionResult> run(Job job, std::stop_token stop, const OutputSink& sink) override;

 private:
  VmParts vm_;
  SandboxSpec spec_;
  SharedPlan plan_;
  bool used_ = false;
};

// The agent's job for `spec` (its shared mount plan, limits) with `job`'s argv, env and stdin
// (a cold slot's job has only stdin; warm hand-off is not built yet).
guest::JobMessage job_message(const SandboxSpec& spec, Job job, const SharedPlan& plan);

// The result the agent reported, checked: an outcome we know, codes in range.
Result<ExecutionResult> to_execution_result(const guest::ResultMessage& m, const Limits& limits);

}  // namespace ignite::sandbox::microvm
