// The Firecracker driver's API calls as data, and sent by the production client (libcurl over a
// Unix socket) to a recording stand-in for Firecracker's API socket: what it asks for, in which
// order, and how a refusal reads. Firecracker itself boots VMs in the integration test
// (MicroVmFirecracker), which needs the binary and hardware KVM.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "sandbox/microvm/firecracker_api.hpp"
#include "sandbox/microvm/firecracker_vmm.hpp"
#include "sandbox/microvm/microvm_backend.hpp"
#include "sys/temp_dir.hpp"
#include "sys/unix_socket.hpp"

namespace ignite::sandbox::microvm {
namespace {

using nlohmann::json;

VmPlan vm_plan() {
  VmPlan vm;
  vm.kernel = "/var/cache/ignite/guest/kernel-x/vmlinux";
  vm.initramfs = "/run/ignite/i/microvm-1/initramfs.cpio";
  vm.share_disks = {"/run/ignite/i/microvm-1/share.sqfs"};
  vm.memory_mib = 320;
  vm.cpus = 2;
  return vm;
}

// Jailed (vmm_jail.hpp), firecracker's cwd is the VM's dir: the plan names its files relative
// to it, and the kernel it gets as a descriptor.
TEST(Firecracker, a_jailed_firecracker_gets_its_dirs_files_relative_and_the_kernel_as_a_descriptor) {
  VmPlan vm = vm_plan();
  vm.kernel = "/proc/self/fd/3";
  vm.cwd = "/run/ignite/i/microvm-1";
  const auto plan = firecracker_plan(vm, "/run/ignite/i/microvm-1/vsock.sock");
  EXPECT_EQ(plan.kernel, "/proc/self/fd/3");
  EXPECT_EQ(plan.initrd, "initramfs.cpio");
  EXPECT_EQ(plan.disks, (std::vector<std::filesystem::path>{"share.sqfs"}));
  EXPECT_EQ(plan.vsock, "vsock.sock");
}

TEST(Firecracker, the_calls_configure_a_vm_without_network_with_read_only_disks_then_start_it) {
  const auto calls = firecracker_calls(firecracker_plan(vm_plan(), "/run/ignite/i/microvm-1/vsock.sock"));
  std::vector<std::string> paths;
  for (const auto& c : calls) {
    EXPECT_EQ(c.method, "PUT") << c.path;
    paths.push_back(c.path);
    EXPECT_EQ(c.path.find("network"), std::string::npos) << "no network interface: " << c.path;
    EXPECT_TRUE(json::accept(c.body)) << c.body;
  }
  ASSERT_EQ(paths, (std::vector<std::string>{"/machine-config", "/boot-source", "/drives/share0", "/vsock", "/actions"}));
  const json machine = json::parse(calls[0].body);
  EXPECT_EQ(machine["vcpu_count"], 2);
  EXPECT_EQ(machine["mem_size_mib"], 320);
  const json boot = json::parse(calls[1].body);
  EXPECT_EQ(boot["kernel_image_path"], "/var/cache/ignite/guest/kernel-x/vmlinux");
  EXPECT_EQ(boot["initrd_path"], "/run/ignite/i/microvm-1/initramfs.cpio");
  const std::string args = boot["boot_args"];
  for (const char* word : {"console=ttyS0", "reboot=k", "pci=off", "rdinit=/init", "ignite.share=disks", "ignite.vsock=1024"})
    EXPECT_NE(args.find(word), std::string::npos) << word << " in " << args;
  const json drive = json::parse(calls[2].body);
  EXPECT_EQ(drive["path_on_host"], "/run/ignite/i/microvm-1/share.sqfs");
  EXPECT_EQ(drive["is_read_only"], true);
  EXPECT_EQ(drive["is_root_device"], false);
  const json vsock = json::parse(calls[3].body);
  EXPECT_EQ(vsock["uds_path"], "/run/ignite/i/microvm-1/vsock.sock");
  EXPECT_GE(vsock["guest_cid"].get<int>(), 3) << "0-2 are reserved";
  EXPECT_EQ(json::parse(calls[4].body)["action_type"], "InstanceStart");
}

TEST(Firecracker, a_refused_call_fails_and_logs_firecrackers_fault_message) {
  const ApiCall call{"PUT", "/machine-config", "{}"};
  EXPECT_TRUE(check_api_answer(call, 204).has_value());
  const std::string body = R"({"fault_message":"Unable to open /run/ignite/i/microvm-1/share.sqfs"})";
  auto refused = check_api_answer(call, 400);
  ASSERT_FALSE(refused.has_value());
  // The caller learns which call and why in general; the host path stays in the log.
  EXPECT_EQ(refused.error().message, "firecracker PUT /machine-config: HTTP 400 (its reason is in the log)");
  EXPECT_EQ(fault_message(body), "Unable to open /run/ignite/i/microvm-1/share.sqfs");
  EXPECT_EQ(fault_message("not json"), "not json");
  EXPECT_FALSE(check_api_answer(call, 500).has_value());
}

// A stand-in for Firecracker's API socket: records each request, answers `status` to the
// `refuse_at`-th (1-based; 0: none) and 204 to the others.
class ApiStandIn {
 public:
  ApiStandIn(const std::filesystem::path& socket, std::size_t refuse_at) : refuse_at_(refuse_at) {
    auto listener = sys::listen_unix(socket, SOCK_STREAM, 0600);
    EXPECT_TRUE(listener.has_value()) << (listener ? "" : listener.error().message);
    if (listener) listener_ = std::move(*listener);
    // listen_unix's socket is non-blocking (the driver polls); this thread blocks in accept.
    ::fcntl(listener_.get(), F_SETFL, ::fcntl(listener_.get(), F_GETFL) & ~O_NONBLOCK);
    thread_ = std::thread([this] { serve(); });
  }
  ~ApiStandIn() {
    ::shutdown(listener_.get(), SHUT_RDWR);
    thread_.join();
  }
  std::vector<ApiCall> seen;

 private:
  void serve() {
    for (;;) {
      sys::Fd c(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!c) return;
      std::string in;
      char buf[4096];
      std::size_t head_end = std::string::npos, length = 0;
      while (head_end == std::string::npos || in.size() < head_end + 4 + length) {
        const ssize_t n = ::read(c.get(), buf, sizeof buf);
        if (n <= 0) return;
        in.append(buf, static_cast<std::size_t>(n));
        if (head_end == std::string::npos && (head_end = in.find("\r\n\r\n")) != std::string::npos) {
          const auto cl = in.find("Content-Length: ");
          if (cl != std::string::npos && cl < head_end) length = std::stoul(in.substr(cl + 16));
        }
      }
      const auto sp1 = in.find(' '), sp2 = in.find(' ', sp1 + 1);
      seen.push_back({in.substr(0, sp1), in.substr(sp1 + 1, sp2 - sp1 - 1), in.substr(head_end + 4, length)});
      const std::string fault = R"({"fault_message":"Invalid request method and/or path"})";
      const std::string answer =
          seen.size() == refuse_at_
              ? "HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\nContent-Length: " +
                    std::to_string(fault.size()) + "\r\nConnection: close\r\n\r\n" + fault
              : "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n";
      (void)!::write(c.get(), answer.data(), answer.size());
    }
  }
  std::size_t refuse_at_;
  sys::Fd listener_;
  std::thread thread_;
};

TEST(Firecracker, the_driver_sends_exactly_the_calls_in_order_over_the_api_socket) {
  auto dir = sys::TempDir::create(std::filesystem::temp_directory_path(), "ignite-fc-");
  ASSERT_TRUE(dir.has_value());
  const auto calls = firecracker_calls(firecracker_plan(vm_plan(), dir->path() / "vsock.sock"));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  {
    ApiStandIn api(dir->path() / "api.sock", 0);
    auto sent = send_api_calls(dir->path() / "api.sock", calls, deadline);
    ASSERT_TRUE(sent.has_value()) << sent.error().message;
    ASSERT_EQ(api.seen.size(), calls.size());
    for (std::size_t i = 0; i < calls.size(); ++i) {
      EXPECT_EQ(api.seen[i].method, calls[i].method);
      EXPECT_EQ(api.seen[i].path, calls[i].path);
      EXPECT_EQ(api.seen[i].body, calls[i].body);
    }
  }
  std::filesystem::remove(dir->path() / "api.sock");
  {
    ApiStandIn api(dir->path() / "api.sock", 2);  // refuses the boot source
    auto sent = send_api_calls(dir->path() / "api.sock", calls, deadline);
    ASSERT_FALSE(sent.has_value());
    EXPECT_EQ(sent.error().message, "firecracker PUT /boot-source: HTTP 400 (its reason is in the log)");
    EXPECT_EQ(api.seen.size(), 2u) << "nothing is sent after a refusal (no InstanceStart)";
  }
  std::filesystem::remove(dir->path() / "api.sock");
  // Nothing listening: the error names firecracker and the socket, not docker.
  auto none = send_api_calls(dir->path() / "api.sock", calls, deadline);
  ASSERT_FALSE(none.has_value());
  EXPECT_NE(none.error().message.find("firecracker does not answer"), std::string::npos) << none.error().message;
  EXPECT_EQ(none.error().message.find("dockerd"), std::string::npos) << none.error().message;
  EXPECT_EQ(none.error().message.find(dir->path().string()), std::string::npos) << "no host path: " << none.error().message;
}

// IGNITE_VMM and IGNITE_FIRECRACKER for one scope.
struct VmmEnv {
  VmmEnv(const char* vmm, const char* firecracker) {
    ::setenv("IGNITE_VMM", vmm, 1);
    if (firecracker) ::setenv("IGNITE_FIRECRACKER", firecracker, 1);
  }
  ~VmmEnv() {
    ::unsetenv("IGNITE_VMM");
    ::unsetenv("IGNITE_FIRECRACKER");
  }
};

TEST(Firecracker, asking_for_it_where_it_cannot_run_says_what_is_missing) {
  {
    VmmEnv env("qemu-please", "");
    auto c = detect_microvm_config("/run/ignite");
    ASSERT_FALSE(c.has_value());
    EXPECT_EQ(c.error().code, ErrorCode::invalid_argument);
    EXPECT_EQ(c.error().message, "microvm: IGNITE_VMM is 'qemu-please'; it takes qemu or firecracker");
  }
  {
    VmmEnv env("firecracker", "/nonexistent/firecracker");
    auto c = detect_microvm_config("/run/ignite");
    ASSERT_FALSE(c.has_value());
    EXPECT_EQ(c.error().message, "microvm: IGNITE_FIRECRACKER names no executable file: /nonexistent/firecracker");
  }
  if (::access("/usr/bin/firecracker", X_OK) != 0 && ::access("/usr/local/bin/firecracker", X_OK) != 0) {
    VmmEnv env("firecracker", nullptr);
    auto c = detect_microvm_config("/run/ignite");
    ASSERT_FALSE(c.has_value());
    EXPECT_NE(c.error().message.find("IGNITE_VMM=firecracker, and no firecracker binary"), std::string::npos)
        << c.error().message;
  }
  if (!hardware_kvm()) {
    VmmEnv env("firecracker", "/bin/true");  // a binary is there; the hardware is not
    auto c = detect_microvm_config("/run/ignite");
    ASSERT_FALSE(c.has_value());
    EXPECT_NE(c.error().message.find("no hardware KVM"), std::string::npos) << c.error().message;
  }
}

}  // namespace
}  // namespace ignite::sandbox::microvm
