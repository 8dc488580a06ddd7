// `ignite doctor`'s checks against fake /proc, cgroup and /dev trees (no privileges needed).
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include "cli/doctor_checks.hpp"
#include "sys/fd.hpp"
#include "sys/files.hpp"
#include "../common/temp_tree.hpp"

namespace ignite::cli {
namespace {

namespace fs = std::filesystem;

class DoctorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(root_ / "proc/self");
    fs::create_directories(root_ / "proc/sys/kernel/seccomp");
    fs::create_directories(root_ / "proc/sys/user");
    fs::create_directories(root_ / "dev");
    put("proc/sys/kernel/osrelease", "6.1.0-18-amd64\n");
    put("proc/sys/user/max_user_namespaces", "15000\n");
    put("proc/sys/kernel/seccomp/actions_avail", "kill_process kill_thread trap errno user_notif trace log allow\n");
    put("proc/filesystems", "nodev\ttmpfs\nnodev\toverlay\n");
    put("proc/swaps", "Filename\tType\tSize\tUsed\tPriority\n");
    roots_.proc = root_ / "proc";
    roots_.dev = root_ / "dev";
    roots_.docker_socket = root_ / "docker.sock";
    roots_.runtimes.store = root_ / "store";
    roots_.runtimes.system_bin = root_ / "bin";
    roots_.root = true;
  }
  void put(const std::string& rel, const std::string& text) {
    fs::create_directories((root_ / rel).parent_path());
    fs::remove(root_ / rel);
    ASSERT_TRUE(sys::write_new_file(root_ / rel, text).has_value());
  }

  // A cgroup v1 host: memory, pids, cpu, cpuacct mounted under <root>/cgroup/<controller>.
  void cgroup_v1() {
    std::string mountinfo, cgroup;
    int id = 30, n = 1;
    for (const char* c : {"memory", "pids", "cpu", "cpuacct"}) {
      const fs::path dir = root_ / "cgroup" / c;
      fs::create_directories(dir);
      ++id;
      mountinfo += std::to_string(id) + " 20 0:" + std::to_string(id) + " / " + dir.string() +
                   " rw,relatime - cgroup cgroup rw," + c + "\n";
      cgroup += std::to_string(n++) + ":" + c + ":/\n";
    }
    put("proc/self/mountinfo", mountinfo);
    put("proc/self/cgroup", cgroup + "0::/\n");
  }

  const Finding* finding(const Diagnosis& d, const std::string& check) {
    for (const auto& f : d.findings) {
      if (f.check == check) return &f;
    }
    ADD_FAILURE() << "no finding " << check;
    return nullptr;
  }

  testing::TempTree tree_{"ignite-doctor-"};
  fs::path root_ = tree_.path();
  HostRoots roots_;
};

TEST_F(DoctorTest, a_cgroup_v1_host_reports_its_usable_controllers) {
  cgroup_v1();
  auto d = diagnose(roots_);
  EXPECT_TRUE(d.features["cgroupV1"]);
  EXPECT_FALSE(d.features["cgroupV2"]);
  EXPECT_FALSE(d.features["memoryPeak"]);
  EXPECT_FALSE(d.features["cgroupKill"]);
  for (const char* c : {"memory", "pids", "cpu", "cpuacct"})
    EXPECT_NE(std::find(d.usable_controllers.begin(), d.usable_controllers.end(), c),
              d.usable_controllers.end())
        << c;
  EXPECT_EQ(d.isolation_level, "full");
  EXPECT_EQ(d.kernel, "6.1.0-18-amd64");
  EXPECT_TRUE(d.ok());
}

// Root in a container or a unit that dropped capabilities: named, and not "full".
TEST_F(DoctorTest, root_without_the_capabilities_sandboxes_need_is_named_and_not_full) {
  cgroup_v1();
  put("proc/self/status", "Name:\tignite\nCapEff:\t00000000002001c0\n");  // SYS_ADMIN SETUID SETGID SETPCAP
  auto d = diagnose(roots_);
  EXPECT_EQ(d.isolation_level, "degraded");
  auto* f = finding(d, "capabilities");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->status, FindingStatus::fail);
  EXPECT_NE(f->detail.find("CAP_KILL"), std::string::npos) << f->detail;
  EXPECT_NE(f->detail.find("CAP_DAC_OVERRIDE"), std::string::npos) << f->detail;
  EXPECT_EQ(f->detail.find("CAP_SYS_ADMIN"), std::string::npos) << f->detail;

  put("proc/self/status", "Name:\tignite\nCapEff:\t00000000002001e2\n");  // and KILL, DAC_OVERRIDE
  auto full = diagnose(roots_);
  EXPECT_EQ(full.isolation_level, "full");
  for (const auto& finding : full.findings) EXPECT_NE(finding.check, "capabilities");
}

TEST_F(DoctorTest, without_cgroups_runs_are_degraded_and_the_remedy_says_how_to_fix_it) {
  put("proc/self/mountinfo", "22 1 0:21 / /proc rw - proc proc rw\n");
  put("proc/self/cgroup", "0::/\n");
  auto d = diagnose(roots_);
  EXPECT_EQ(d.isolation_level, "degraded");
  auto* f = finding(d, "cgroups");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->status, FindingStatus::fail);
  EXPECT_NE(f->remedy.find("--allow-degraded"), std::string::npos) << f->remedy;
}

TEST_F(DoctorTest, no_kvm_and_no_docker_are_reported_with_remedies) {
  cgroup_v1();
  auto d = diagnose(roots_);
  EXPECT_FALSE(d.features["kvm"]);
  EXPECT_FALSE(d.features["docker"]);
  for (const auto& f : d.findings) EXPECT_NE(f.check, "microvm") << "not asked: not reported";
  EXPECT_NE(finding(d, "docker socket")->detail.find("absent"), std::string::npos);
  EXPECT_FALSE(finding(d, "docker socket")->remedy.empty());
}

TEST_F(DoctorTest, microvm_says_which_vmm_and_accelerator_and_why) {
  cgroup_v1();
  // Nothing to boot with: why, and no remedy beyond what the reason says.
  roots_.microvm = MicroVmHost{};
  roots_.microvm->why_not = "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)";
  auto none = diagnose(roots_);
  ASSERT_NE(finding(none, "microvm"), nullptr);
  EXPECT_EQ(finding(none, "microvm")->status, FindingStatus::info);
  EXPECT_EQ(finding(none, "microvm")->detail, "unavailable: qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)");
  EXPECT_FALSE(none.features["microvm"]);

  // QEMU and a kernel, no kvm_intel/kvm_amd, but a /dev/kvm (this machine's PVM): TCG, a warning.
  put("dev/kvm", "");
  roots_.microvm = MicroVmHost{.usable = true, .why_not = {}, .vmm = "QEMU", .binary = "/usr/bin/qemu-system-x86_64",
                               .kernel = "/var/cache/ignite/guest/vmlinux-x",
                               .vmm_reason = "the default",
                               .hardware_kvm = false,
                               .stock_kernel = false,
                               .passt = {}};
  auto tcg = diagnose(roots_);
  const Finding* f = finding(tcg, "microvm");
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->status, FindingStatus::warn);
  EXPECT_NE(f->detail.find("TCG emulation"), std::string::npos) << f->detail;
  EXPECT_NE(f->detail.find("neither kvm_intel nor kvm_amd"), std::string::npos) << f->detail;
  EXPECT_NE(f->detail.find("/usr/bin/qemu-system-x86_64"), std::string::npos) << f->detail;
  EXPECT_NE(f->detail.find("vmlinux-x"), std::string::npos) << f->detail;
  EXPECT_NE(f->detail.find("QEMU /usr/bin/qemu-system-x86_64 (the default)"), std::string::npos) << f->detail;
  EXPECT_FALSE(f->remedy.empty());
  EXPECT_TRUE(tcg.features["microvm"]);
  EXPECT_TRUE(tcg.features["kvm"]);
  EXPECT_FALSE(tcg.features["hardwareKvm"]);
  EXPECT_TRUE(tcg.ok()) << "emulation works: a warning, not a failure";

  EXPECT_EQ(f->detail.find("stock kernel"), std::string::npos) << f->detail;
  roots_.microvm->stock_kernel = true;  // Debian's, the fallback: named, with how to get ours
  const std::string stock = finding(diagnose(roots_), "microvm")->detail;
  EXPECT_NE(stock.find("Debian's stock kernel"), std::string::npos) << stock;
  EXPECT_NE(stock.find("scripts/guest-kernel"), std::string::npos) << stock;
  roots_.microvm->stock_kernel = false;

  // The network a VM may have: passt's, or a refusal that says what to install.
  EXPECT_NE(f->detail.find("`network: true` is refused: passt is not installed"), std::string::npos) << f->detail;
  roots_.microvm->passt = "/usr/bin/passt";
  const std::string net = finding(diagnose(roots_), "microvm")->detail;
  EXPECT_NE(net.find("`network: true` through /usr/bin/passt (the host at its address, never its loopback)"),
            std::string::npos) << net;

  roots_.microvm->hardware_kvm = true;
  auto kvm = diagnose(roots_);
  EXPECT_EQ(finding(kvm, "microvm")->status, FindingStatus::ok);
  EXPECT_NE(finding(kvm, "microvm")->detail.find("hardware KVM"), std::string::npos);
  EXPECT_TRUE(kvm.features["hardwareKvm"]);

  // Firecracker chosen: which binary, and why.
  roots_.microvm->vmm = "Firecracker";
  roots_.microvm->binary = "/usr/local/bin/firecracker";
  roots_.microvm->vmm_reason = "IGNITE_VMM=firecracker";
  auto fc = diagnose(roots_);
  EXPECT_EQ(finding(fc, "microvm")->status, FindingStatus::ok);
  EXPECT_NE(finding(fc, "microvm")->detail.find("Firecracker /usr/local/bin/firecracker (IGNITE_VMM=firecracker)"),
            std::string::npos) << finding(fc, "microvm")->detail;

  // As root each VMM is jailed; otherwise it runs as the user, and the report says which.
  roots_.root = true;
  EXPECT_NE(finding(diagnose(roots_), "microvm")->detail.find("each VMM jailed: a uid of its own"), std::string::npos);
  roots_.root = false;
  EXPECT_NE(finding(diagnose(roots_), "microvm")->detail.find("the VMMs run as this user"), std::string::npos);
}

TEST_F(DoctorTest, a_listening_docker_socket_is_reported_as_usable) {
  cgroup_v1();
  sys::Fd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  const std::string path = roots_.docker_socket.string();
  ASSERT_LT(path.size(), sizeof a.sun_path);
  std::copy(path.begin(), path.end(), a.sun_path);
  ASSERT_EQ(::bind(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  ASSERT_EQ(::listen(s.get(), 1), 0);
  auto d = diagnose(roots_);
  EXPECT_TRUE(d.features["docker"]);
  EXPECT_EQ(finding(d, "docker socket")->status, FindingStatus::ok);
}

TEST_F(DoctorTest, a_docker_path_that_is_not_a_socket_is_not_usable) {
  cgroup_v1();
  put("docker.sock", "not a socket");
  auto d = diagnose(roots_);
  EXPECT_FALSE(d.features["docker"]);
  EXPECT_NE(finding(d, "docker socket")->detail.find("not a socket"), std::string::npos);
}

TEST_F(DoctorTest, an_old_kernel_fails_with_an_upgrade_remedy) {
  cgroup_v1();
  put("proc/sys/kernel/osrelease", "4.19.0\n");
  auto d = diagnose(roots_);
  EXPECT_FALSE(d.ok());
  EXPECT_FALSE(d.features["pidfd"]);
  EXPECT_NE(finding(d, "kernel")->remedy.find("5.11"), std::string::npos);
}

TEST_F(DoctorTest, restricted_user_namespaces_make_rootless_mode_unavailable) {
  cgroup_v1();
  put("proc/sys/kernel/unprivileged_userns_clone", "0\n");
  roots_.root = false;
  auto d = diagnose(roots_);
  EXPECT_FALSE(d.features["unprivilegedUserNamespaces"]);
  EXPECT_EQ(d.isolation_level, "unavailable");
  auto* f = finding(d, "user namespaces");
  EXPECT_EQ(f->status, FindingStatus::fail);
  EXPECT_EQ(f->remedy, "sysctl -w kernel.unprivileged_userns_clone=1");
}

TEST_F(DoctorTest, seccomp_without_user_notification_is_reported) {
  cgroup_v1();
  put("proc/sys/kernel/seccomp/actions_avail", "kill_process errno allow\n");
  auto d = diagnose(roots_);
  EXPECT_TRUE(d.features["seccomp"]);
  EXPECT_FALSE(d.features["seccompUserNotif"]);
}

TEST_F(DoctorTest, every_warning_and_failure_comes_with_a_remedy) {
  put("proc/self/mountinfo", "");
  put("proc/self/cgroup", "");
  put("proc/sys/kernel/osrelease", "4.19.0\n");
  put("proc/sys/user/max_user_namespaces", "0\n");
  put("proc/sys/kernel/seccomp/actions_avail", "");
  roots_.root = false;
  auto d = diagnose(roots_);
  for (const auto& f : d.findings) {
    if (f.status == FindingStatus::warn || f.status == FindingStatus::fail) {
      EXPECT_FALSE(f.remedy.empty()) << f.check << ": " << f.detail;
    }
  }
}

}  // namespace
}  // namespace ignite::cli
