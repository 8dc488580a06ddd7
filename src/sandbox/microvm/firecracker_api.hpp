// Firecracker's API (HTTP/1.1 with JSON bodies on its Unix socket): the calls that configure and
// start one VM, as data, so what decides isolation (no network interface, read-only disks, the
// memory and vCPUs from the limits) is unit-tested; firecracker_vmm.cpp sends exactly these.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "sandbox/microvm/vm_image.hpp"

namespace ignite::sandbox::microvm {

// The guest's vsock port the agent connects to (the host listens on <vsock uds>_<port>).
inline constexpr std::uint32_t kAgentVsockPort = 1024;
// The guest's context id: every VM has its own vsock device, so one id serves all.
inline constexpr std::uint32_t kGuestCid = 3;

struct FirecrackerPlan {
  std::filesystem::path kernel;  // an uncompressed vmlinux, as QEMU boots it
  std::filesystem::path initrd;  // the agent's initramfs
  std::vector<std::filesystem::path> disks;  // the share's images, read-only, in order
  std::filesystem::path vsock;   // the vsock device's Unix socket (uds_path)
  std::uint64_t memory_mib = 256;
  unsigned cpus = 1;
  std::string boot_args;
};

// The plan for a VmPlan: its kernel, initramfs, share disks, memory and vCPUs.
FirecrackerPlan firecracker_plan(const VmPlan& vm, const std::filesystem::path& vsock);

// The kernel command line: the serial console, a reboot through the keyboard controller (which
// ends Firecracker: the VM is single use), no PCI probe, and the agent's words.
std::string firecracker_boot_args(const VmPlan& vm);

struct ApiCall {
  std::string method;  // PUT
  std::string path;    // /machine-config
  std::string body;    // JSON
};

// In order: machine, boot source, each disk, the vsock, then InstanceStart. No network interface.
std::vector<ApiCall> firecracker_calls(const FirecrackerPlan& plan);

// Firecracker answers 2xx (204 mostly) when a call took; else a JSON {"fault_message": …}.
// The error names the call and the status only; the body's fault message (it can name host
// files) is fault_message(body), for the log.
Status check_api_answer(const ApiCall& call, long status);
std::string fault_message(std::string_view body);

// firecracker's own command line: its API socket and an id for its log lines.
std::vector<std::string> firecracker_argv(const std::filesystem::path& binary, const std::filesystem::path& api_socket,
                                          std::string_view id);

}  // namespace ignite::sandbox::microvm
