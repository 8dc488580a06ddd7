#include "sandbox/microvm/vm_template.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>

#include <nlohmann/json.hpp>

#include "guest/protocol.hpp"
#include "sandbox/microvm/microvm_slot.hpp"
#include "sandbox/microvm/qmp.hpp"

namespace ignite::sandbox::microvm {
namespace {

using nlohmann::json;

const json kIgnoreShared = {{"capabilities", json::array({{{"capability", "x-ignore-shared"}, {"state", true}}})}};

}  // namespace

Result<std::unique_ptr<VmTemplate>> VmTemplate::make(VmPlan base, sys::TempDir dir, VmmJail jail, Deadline deadline) {
  sys::Fd ram(static_cast<int>(::memfd_create("ignite-template-ram", MFD_CLOEXEC | MFD_ALLOW_SEALING)));
  if (!ram) return fail(Error::from_errno("microvm template: memfd_create"));
  sys::Fd passed(::fcntl(ram.get(), F_DUPFD_CLOEXEC, 0));
  if (!passed) return fail(Error::from_errno("microvm template: dup"));
  base.ram_shared = true;
  base.share = dir.path() / "share";
  base.socket = dir.path() / "agent.sock";
  base.qmp = dir.path() / "qmp.sock";
  base.console = dir.path() / "console.log";
  base.incoming = false;
  std::error_code ec;
  if (!std::filesystem::create_directory(base.share, ec))
    return fail(ErrorCode::internal, "microvm template: cannot make the share dir");
  VmPlan plan = base;
  IGNITE_TRY_ASSIGN(plan, jail.inputs(std::move(plan)));
  plan.ram_file = jail.pass(std::move(passed));
  IGNITE_TRY_ASSIGN(sys::ChildProcess qemu, spawn_qemu(plan, {}, jail));
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
    // Security: sealed, QEMU gone (no shared writable mapping left): no clone, jailed or not,
    // can write the RAM its siblings start from; each maps it privately (copy-on-write).
    if (::fcntl(ram.get(), F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) != 0)
      return fail(Error::from_errno("seal the template's RAM"));
    return ok();
  }();
  if (!saved) return fail(std::move(saved).error().with_context("microvm template"));
  return std::unique_ptr<VmTemplate>(new VmTemplate(std::move(base), std::move(dir), std::move(ram)));
}

Result<RestoredVm> VmTemplate::restore(VmPlan plan, const std::vector<ShareEntry>& share, VmmJail& jail,
                                       Deadline deadline) const {
  plan.kernel = base_.kernel;
  plan.initramfs = base_.initramfs;
  plan.memory_mib = base_.memory_mib;
  plan.cpus = base_.cpus;
  plan.ram_shared = false;  // copy-on-write: the template's RAM is never written (and sealed)
  plan.incoming = true;
  IGNITE_TRY_ASSIGN(plan, jail.inputs(std::move(plan)));
  sys::Fd ram(::fcntl(ram_.get(), F_DUPFD_CLOEXEC, 0));
  if (!ram) return fail(Error::from_errno("microvm: dup the template's RAM"));
  plan.ram_file = jail.pass(std::move(ram));
  IGNITE_TRY_ASSIGN(sys::ChildProcess qemu, spawn_qemu(plan, share, jail));
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
