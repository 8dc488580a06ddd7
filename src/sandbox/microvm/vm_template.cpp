#include "sandbox/microvm/vm_template.hpp"

#include <fcntl.h>
#include <signal.h>

#include <nlohmann/json.hpp>

#include "guest/protocol.hpp"
#include "sandbox/microvm/microvm_slot.hpp"
#include "sandbox/microvm/qmp.hpp"

namespace ignite::sandbox::microvm {
namespace {

using nlohmann::json;

const json kIgnoreShared = {{"capabilities", json::array({{{"capability", "x-ignore-shared"}, {"state", true}}})}};

}  // namespace

Result<std::unique_ptr<VmTemplate>> VmTemplate::make(VmPlan base, sys::TempDir dir, Deadline deadline) {
  base.ram_file = dir.path() / "ram";
  base.ram_shared = true;
  base.share = dir.path() / "share";
  base.socket = dir.path() / "agent.sock";
  base.qmp = dir.path() / "qmp.sock";
  base.console = dir.path() / "console.log";
  base.incoming = false;
  std::error_code ec;
  if (!std::filesystem::create_directory(base.share, ec))
    return fail(ErrorCode::internal, "microvm template: cannot make the share dir");
  IGNITE_TRY_ASSIGN(sys::ChildProcess qemu, spawn_qemu(base, {}));
  auto saved = [&]() -> Status {
    guest::FrameReader reader(guest::kMaxGuestFrameBytes);
    IGNITE_TRY_ASSIGN(sys::Fd channel, agent_hello(base.socket, qemu, reader, deadline));
    IGNITE_TRY_ASSIGN(Qmp qmp, Qmp::open(base.qmp, qemu, deadline));
    IGNITE_TRY(qmp.execute("migrate-set-capabilities", kIgnoreShared, deadline));
    IGNITE_TRY(qmp.execute("stop", json::object(), deadline));
    sys::Fd state(::open((dir.path() / "state").c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (!state) return fail(Error::from_errno("create the template's state file"));
    IGNITE_TRY(qmp.pass_fd("state", state.get(), deadline));
    IGNITE_TRY(qmp.execute("migrate", json{{"uri", "fd:state"}}, deadline));
    IGNITE_TRY(qmp.wait_for_migration(deadline));
    // The agent's channel stays connected until QEMU is gone: the saved state says a host is
    // there, and the agent, blocked in its read, never sees it leave.
    (void)qemu.send_signal(SIGKILL);
    IGNITE_TRY(qemu.wait());
    return ok();
  }();
  if (!saved) return fail(std::move(saved).error().with_context("microvm template"));
  return std::unique_ptr<VmTemplate>(new VmTemplate(std::move(base), std::move(dir)));
}

Result<RestoredVm> VmTemplate::restore(VmPlan plan, const std::vector<ShareEntry>& share, Deadline deadline) const {
  plan.kernel = base_.kernel;
  plan.initramfs = base_.initramfs;
  plan.memory_mib = base_.memory_mib;
  plan.cpus = base_.cpus;
  plan.ram_file = base_.ram_file;
  plan.ram_shared = false;  // copy-on-write: the template's RAM file is never written
  plan.incoming = true;
  IGNITE_TRY_ASSIGN(sys::ChildProcess qemu, spawn_qemu(plan, share));
  // Connected before the state is loaded: the restored port then finds its host there, and the
  // agent's pending read goes on waiting for the job instead of seeing the host leave.
  IGNITE_TRY_ASSIGN(sys::Fd channel, connect_when_listening(plan.socket, qemu, deadline));
  IGNITE_TRY_ASSIGN(Qmp qmp, Qmp::open(plan.qmp, qemu, deadline));
  IGNITE_TRY(qmp.execute("migrate-set-capabilities", kIgnoreShared, deadline));
  sys::Fd state(::open(this->state().c_str(), O_RDONLY | O_CLOEXEC));
  if (!state) return fail(Error::from_errno("open the template's state file"));
  IGNITE_TRY(qmp.pass_fd("state", state.get(), deadline));
  IGNITE_TRY(qmp.execute("migrate-incoming", json{{"uri", "fd:state"}}, deadline));
  IGNITE_TRY(qmp.wait_for_migration(deadline));
  IGNITE_TRY(qmp.execute("cont", json::object(), deadline));
  return RestoredVm{std::move(qemu), std::move(channel)};
}

}  // namespace ignite::sandbox::microvm
