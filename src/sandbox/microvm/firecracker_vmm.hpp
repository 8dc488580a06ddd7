// The Firecracker driver: one VM booted by a firecracker process, configured over its API
// socket (firecracker_api.hpp) with the same libcurl transport the Docker client uses
// (docker/unix_http.hpp), its agent reached over vsock. Used where hardware KVM and the
// firecracker binary exist (microvm_backend.cpp chooses); QEMU is the driver everywhere else.
#pragma once
#include <filesystem>

#include "core/result.hpp"
#include "sandbox/microvm/firecracker_api.hpp"
#include "sandbox/microvm/vmm_process.hpp"
#include "sys/child_process.hpp"
#include "sys/fd.hpp"

namespace ignite::sandbox::microvm {

struct BootedVm {
  sys::ChildProcess vmm;
  sys::Fd channel;  // the agent's connection (its hello not read yet: microvm_slot.hpp's await_hello)
};

// Where one Firecracker VM's files go: its API socket, its vsock socket, its console log. All in
// the VM's own scratch dir, removed with it.
struct FirecrackerFiles {
  std::filesystem::path api_socket;
  std::filesystem::path vsock;
  std::filesystem::path console;
};

// Spawns firecracker in `jail` (vmm_jail.hpp: its uid, cgroup and namespaces; dying with
// Ignite: spawn_with_share), its paths named as it sees them (firecracker_plan does the plan's),
// sends firecracker_calls(plan), and waits for the agent: the host listens on
// <vsock>_<kAgentVsockPort> before the VM starts, and the agent connects. Fails `unavailable`
// with the reason (an API call's fault message, the VMM's exit, the deadline).
Result<BootedVm> boot_firecracker(const std::filesystem::path& binary, const FirecrackerPlan& plan,
                                  const FirecrackerFiles& files, VmmJail& jail, Deadline deadline);

// Sends each call on the API socket, in order, stopping at the first that Firecracker refuses.
Status send_api_calls(const std::filesystem::path& api_socket, const std::vector<ApiCall>& calls, Deadline deadline);

// One connection accepted on `listener` before the deadline; the VMM's exit ends the wait.
Result<sys::Fd> accept_from_vm(const sys::Fd& listener, const sys::ChildProcess& vmm, Deadline deadline);

}  // namespace ignite::sandbox::microvm
