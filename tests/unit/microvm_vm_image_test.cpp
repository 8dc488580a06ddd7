// What a microVM boots, as data: the initramfs archive and QEMU's command line.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>

#include "guest/protocol.hpp"
#include "sandbox/microvm/runtime_disk.hpp"
#include "sandbox/microvm/share_image.hpp"
#include "sandbox/microvm/user_network.hpp"
#include "sandbox/microvm/vm_image.hpp"

namespace ignite::sandbox::microvm {
namespace {

bool has(const std::vector<std::string>& argv, const std::string& s) {
  return std::find(argv.begin(), argv.end(), s) != argv.end();
}

TEST(MicroVmImage, the_initramfs_is_newc_cpio_with_the_agent_as_init) {
  const std::string agent = "\x7f" "ELF-agent";
  const std::string a = agent_initramfs(agent);
  EXPECT_EQ(a.substr(0, 6), "070701");
  EXPECT_EQ(a.size() % 4, 0u);
  EXPECT_NE(a.find(std::string("init\0", 5)), std::string::npos);
  EXPECT_NE(a.find(agent), std::string::npos);
  EXPECT_NE(a.find(std::string("TRAILER!!!\0", 11)), std::string::npos);
  // The same bytes for the same agent (no timestamps): cacheable.
  EXPECT_EQ(a, agent_initramfs(agent));
}

TEST(MicroVmImage, one_cpio_record_has_the_newc_header_layout) {
  const std::string a = cpio_newc({{"x", S_IFREG | 0644, "abc"}});
  // magic, ino 1, mode, uid, gid, nlink 1, mtime, filesize 3, devs, namesize 2 ("x\0"), check.
  EXPECT_EQ(a.substr(0, 110), "070701" "00000001" "000081A4" "00000000" "00000000" "00000001" "00000000"
                              "00000003" "00000000" "00000000" "00000000" "00000000" "00000002" "00000000");
  // The name ends 4-aligned at 112, the content follows, padded to 116.
  EXPECT_EQ(a.substr(110, 6), std::string("x\0abc\0", 6));
}

TEST(MicroVmImage, the_vm_has_no_network_device_and_a_read_only_host_root) {
  VmPlan plan{.qemu = "/usr/bin/qemu-system-x86_64", .kernel = "/k/vmlinux", .initramfs = "/d/i.cpio", .share = "/d/share",
              .share_disks = {}, .socket = "/d/agent.sock", .console = "/d/console.log", .memory_mib = 320, .cpus = 1,
              .tsc_khz = 2100000, .kvm = false, .cwd = {}, .ram_file = {}, .ram_shared = false, .qmp = {},
              .incoming = false};
  const auto argv = qemu_argv(plan);
  EXPECT_TRUE(has(argv, "-nodefaults"));
  EXPECT_TRUE(has(argv, "none"));  // -nic none
  EXPECT_TRUE(has(argv, "tcg"));
  EXPECT_TRUE(has(argv, "320"));
  for (const auto& a : argv) {
    EXPECT_EQ(a.find("-netdev"), std::string::npos);
    EXPECT_EQ(a.find("virtio-net"), std::string::npos);
    if (a.rfind("local,", 0) == 0) {
      EXPECT_NE(a.find("readonly=on"), std::string::npos) << a;
    }
  }
  const auto append = std::find(argv.begin(), argv.end(), "-append");
  ASSERT_NE(append, argv.end());
  EXPECT_NE((append + 1)->find("tsc_early_khz=2100000"), std::string::npos);
  plan.kvm = true;
  EXPECT_TRUE(has(qemu_argv(plan), "kvm"));
}

TEST(MicroVmImage, a_network_run_gets_one_nic_on_a_socket_to_passt_and_the_agent_is_told) {
  VmPlan plan;
  plan.qemu = "/usr/bin/qemu-system-x86_64";
  plan.network = true;
  plan.network_fd = 5;
  const auto argv = qemu_argv(plan);
  EXPECT_FALSE(has(argv, "-nic"));
  const auto netdev = std::find(argv.begin(), argv.end(), "-netdev");
  ASSERT_NE(netdev, argv.end());
  // Never QEMU's slirp (`user`), whose gateway is the host's loopback: the descriptor passt
  // holds the other end of.
  EXPECT_EQ(*(netdev + 1), "stream,id=net0,server=off,addr.type=fd,addr.str=5");
  for (const auto& a : argv) EXPECT_EQ(a.find("user,"), std::string::npos) << a;
  EXPECT_EQ(std::count(argv.begin(), argv.end(), "-netdev"), 1);
  EXPECT_TRUE(has(argv, "virtio-net-device,netdev=net0"));
  const auto append = std::find(argv.begin(), argv.end(), "-append");
  ASSERT_NE(append, argv.end());
  EXPECT_TRUE(guest::parse_boot_args(*(append + 1)).network) << *(append + 1);
  // Without the network: no NIC and the agent brings none up.
  plan.network = false;
  const auto off = qemu_argv(plan);
  EXPECT_FALSE(has(off, "-netdev"));
  EXPECT_FALSE(guest::parse_boot_args(*(std::find(off.begin(), off.end(), "-append") + 1)).network);
  EXPECT_FALSE(guest::parse_boot_args("ignite.net=tap").network);
  EXPECT_FALSE(guest::parse_boot_args("ignite.net=").network);
}

TEST(MicroVmImage, passt_maps_nothing_to_the_hosts_loopback_and_forwards_nothing_in) {
  const auto argv = passt_argv("/usr/bin/passt", 3);
  const auto after = [&](const std::string& flag) {
    const auto at = std::find(argv.begin(), argv.end(), flag);
    return at == argv.end() || at + 1 == argv.end() ? std::string("(absent)") : *(at + 1);
  };
  EXPECT_EQ(argv.at(0), "/usr/bin/passt");
  EXPECT_TRUE(has(argv, "--no-map-gw"));
  EXPECT_EQ(after("--tcp-ports"), "none");
  EXPECT_EQ(after("--udp-ports"), "none");
  EXPECT_TRUE(has(argv, "--ipv4-only")) << "IPv6's gateway would be mapped the same way";
  EXPECT_EQ(after("--fd"), "3");
  EXPECT_TRUE(has(argv, "--foreground")) << "a child of ours, reaped by us";
  EXPECT_EQ(after("--address"), guest::kGuestAddress);
  EXPECT_EQ(after("--gateway"), guest::kGuestGateway);
  EXPECT_EQ(after("--dns-forward"), guest::kGuestNameserver);
}

TEST(MicroVmImage, a_stock_kernel_finds_its_devices_in_acpi_tables_ours_on_the_command_line) {
  VmPlan plan;
  plan.qemu = "/usr/bin/qemu-system-x86_64";
  const auto machine = [](const std::vector<std::string>& argv) { return *(std::find(argv.begin(), argv.end(), "-M") + 1); };
  EXPECT_NE(machine(qemu_argv(plan)).find("acpi=off"), std::string::npos);
  plan.acpi = true;
  EXPECT_NE(machine(qemu_argv(plan)).find("acpi=on"), std::string::npos);
  EXPECT_EQ(machine(qemu_argv(plan)).find("acpi=off"), std::string::npos);
}

TEST(MicroVmImage, the_vm_shares_only_the_plans_sources_not_the_hosts_root) {
  VmPlan plan;
  plan.share = "/run/ignite/x/microvm-1/share";
  const auto argv = qemu_argv(plan);
  int shares = 0;
  for (const auto& a : argv) {
    if (a.rfind("local,", 0) != 0) continue;
    ++shares;
    EXPECT_NE(a.find("path=/run/ignite/x/microvm-1/share,"), std::string::npos) << a;
    EXPECT_EQ(a.find("path=/,"), std::string::npos) << a;
  }
  EXPECT_EQ(shares, 1);

  SandboxSpec spec;
  spec.argv = {"/usr/bin/true"};
  spec.mounts = {{"/usr", "/usr"}, {"/etc/hostname", "/etc/name"}, {"/usr", "/again"}};
  auto shared = shared_plan(spec);
  ASSERT_TRUE(shared.has_value()) << shared.error().message;
  ASSERT_EQ(shared->share.size(), 2u);  // /usr once, though bound twice
  EXPECT_EQ(shared->share[0].source, "/usr");
  EXPECT_TRUE(shared->share[0].is_dir);
  EXPECT_EQ(shared->share[1].source, "/etc/hostname");
  EXPECT_FALSE(shared->share[1].is_dir);
  for (const auto& op : shared->ops) {
    if (op.kind != native::OpKind::bind) continue;
    if (op.writable) {
      EXPECT_EQ(op.source.rfind("/dev/", 0), 0u) << op.source;  // the guest's own device nodes
    } else {
      EXPECT_EQ(op.source.rfind("/host/", 0), 0u) << op.source;  // never a host path as such
    }
  }
}

// A runtime disk (runtime_disk.hpp) holds some sources already: those binds come from it, and
// only the rest goes into the VM's own share.
TEST(MicroVmImage, sources_a_runtime_disk_holds_are_bound_from_it_and_not_shared_again) {
  SandboxSpec spec;
  spec.argv = {"/usr/bin/true"};
  spec.mounts = {{"/usr", "/usr"}, {"/etc/hostname", "/etc/name"}};
  auto shared = shared_plan(spec, {{"/usr", "/host/rootfs/usr"}});
  ASSERT_TRUE(shared.has_value()) << shared.error().message;
  ASSERT_EQ(shared->share.size(), 1u);
  EXPECT_EQ(shared->share[0].source, "/etc/hostname");
  std::vector<std::string> sources;
  for (const auto& op : shared->ops)
    if (op.kind == native::OpKind::bind && !op.writable) sources.push_back(op.source);
  EXPECT_EQ(sources, (std::vector<std::string>{"/host/rootfs/usr", "/host/" + shared->share[0].name}));
  EXPECT_NE(shared->share[0].name.rfind("rootfs", 0), 0u);  // the VM's names never meet the disk's
}

TEST(MicroVmImage, a_runtime_disk_is_an_uncompressed_root_owned_squashfs_of_the_tar_without_its_dockerfile) {
  const auto argv = sqfstar_argv("/usr/bin/sqfstar", "/c/runtimes/.building-1.sqfs");
  ASSERT_GE(argv.size(), 3u);
  EXPECT_EQ(argv.front(), "/usr/bin/sqfstar");
  EXPECT_EQ(argv[argv.size() - 2], "/c/runtimes/.building-1.sqfs");
  EXPECT_EQ(argv.back(), "Dockerfile");  // excluded: only rootfs/ goes on the disk
  for (const char* flag : {"-noI", "-noD", "-noF", "-noX", "-no-xattrs", "-all-root"})
    EXPECT_TRUE(has(argv, flag)) << flag;
  EXPECT_EQ(std::string(kRuntimeDiskRoot), "rootfs");  // what docker::ImageContext names its tree
}

TEST(MicroVmImage, qemu_runs_under_its_own_seccomp_filter) {
  VmPlan plan;
  const auto argv = qemu_argv(plan);
  const auto it = std::find(argv.begin(), argv.end(), "-sandbox");
  ASSERT_NE(it, argv.end());
  for (const char* part : {"on", "spawn=deny", "obsolete=deny", "elevateprivileges=deny"})
    EXPECT_NE((it + 1)->find(part), std::string::npos) << part;
  EXPECT_FALSE(has(argv, "-runas")) << "it starts unprivileged (vmm_jail.hpp), with no setuid of its own";
}

// A jailed QEMU's cwd is its VM's dir, which it cannot reach from /: the dir's files are named
// relative to it; what lies elsewhere (the kernel passed as a descriptor) stays as it is.
TEST(MicroVmImage, a_jailed_vmm_names_its_dirs_files_relative_to_its_cwd) {
  VmPlan plan{.qemu = "/usr/bin/qemu-system-x86_64", .kernel = "/proc/self/fd/3", .initramfs = "/d/vm/i.cpio",
              .share = "/d/vm/share", .share_disks = {"/d/vm/share.sqfs"}, .socket = "/d/vm/agent.sock",
              .console = "/d/vm/console.log", .memory_mib = 320, .cpus = 1, .tsc_khz = 0, .kvm = false,
              .cwd = "/d/vm", .ram_file = "/proc/self/fd/4", .ram_shared = false, .qmp = "/d/vm/qmp.sock",
              .incoming = true};
  const auto argv = qemu_argv(plan);
  for (const auto& a : argv) EXPECT_EQ(a.find("/d/vm"), std::string::npos) << a;
  for (const char* want : {"file:console.log", "/proc/self/fd/3", "i.cpio", "unix:qmp.sock,server=on,wait=off",
                           "file=share.sqfs,if=none,id=share0,format=raw,readonly=on"})
    EXPECT_TRUE(has(argv, want)) << want;
  EXPECT_NE(std::find_if(argv.begin(), argv.end(), [](const std::string& a) { return a.find("path=agent.sock,") != std::string::npos; }),
            argv.end());
  EXPECT_EQ(vmm_path("/d/vm/x", ""), "/d/vm/x") << "not jailed: as it is";
  EXPECT_EQ(vmm_path("/d/vmx/y", "/d/vm"), "/d/vmx/y") << "a sibling is not inside";
  EXPECT_EQ(vmm_path("/d/vm/../etc", "/d/vm"), "/d/vm/../etc");
}

// A template writes its RAM file; a clone maps the same file privately (copy-on-write), waits
// for its state over QMP, and has the same machine and devices (else the state does not load).
TEST(MicroVmImage, a_template_shares_its_ram_file_and_a_clone_maps_it_copy_on_write) {
  VmPlan plan;
  plan.memory_mib = 448;
  const auto plain = qemu_argv(plan);
  EXPECT_FALSE(has(plain, "-qmp"));
  EXPECT_FALSE(has(plain, "-incoming"));
  plan.ram_file = "/run/ignite/x/template-1/ram";
  plan.ram_shared = true;
  plan.qmp = "/run/ignite/x/template-1/qmp.sock";
  const auto tmpl = qemu_argv(plan);
  EXPECT_TRUE(has(tmpl, "memory-backend-file,id=ram0,size=448M,mem-path=/run/ignite/x/template-1/ram,share=on"));
  EXPECT_TRUE(has(tmpl, "unix:/run/ignite/x/template-1/qmp.sock,server=on,wait=off"));
  EXPECT_NE((std::find(tmpl.begin(), tmpl.end(), "-M") + 1)->find(",memory-backend=ram0"), std::string::npos);
  EXPECT_FALSE(has(tmpl, "-incoming"));
  plan.ram_shared = false;
  plan.incoming = true;
  const auto clone = qemu_argv(plan);
  EXPECT_TRUE(has(clone, "memory-backend-file,id=ram0,size=448M,mem-path=/run/ignite/x/template-1/ram,share=off"));
  EXPECT_TRUE(has(clone, "defer"));
  // The same devices, in the same order, as the template's.
  std::vector<std::string> devices_t, devices_c;
  for (std::size_t i = 0; i + 1 < tmpl.size(); ++i)
    if (tmpl[i] == "-device") devices_t.push_back(tmpl[i + 1]);
  for (std::size_t i = 0; i + 1 < clone.size(); ++i)
    if (clone[i] == "-device") devices_c.push_back(clone[i + 1]);
  EXPECT_EQ(devices_t, devices_c);
}

TEST(MicroVmImage, vm_memory_is_the_jobs_limit_plus_the_guests_overhead) {
  EXPECT_GT(vm_memory_mib(128ull << 20), 128u);
  EXPECT_EQ(vm_memory_mib((128ull << 20) + 1) - vm_memory_mib(128ull << 20), 1u);
}

TEST(MicroVmImage, a_share_on_disks_replaces_the_9p_export_with_read_only_drives) {
  VmPlan plan;
  plan.share = "/run/ignite/x/microvm-1/share";
  plan.share_disks = {"/run/ignite/x/microvm-1/share.sqfs"};
  const auto argv = qemu_argv(plan);
  for (const auto& a : argv) {
    EXPECT_EQ(a.find("9p"), std::string::npos) << "no 9p export beside the disks: " << a;
    EXPECT_EQ(a.rfind("local,", 0), std::string::npos) << a;
  }
  const auto drive = std::find(argv.begin(), argv.end(), "-drive");
  ASSERT_NE(drive, argv.end());
  EXPECT_EQ(*(drive + 1), "file=/run/ignite/x/microvm-1/share.sqfs,if=none,id=share0,format=raw,readonly=on");
  EXPECT_TRUE(has(argv, "virtio-blk-device,drive=share0"));
  const auto append = std::find(argv.begin(), argv.end(), "-append");
  ASSERT_NE(append, argv.end());
  EXPECT_NE((append + 1)->find("ignite.share=disks"), std::string::npos) << *(append + 1);
  // Without disks: 9p, and the agent is told so.
  plan.share_disks.clear();
  const auto nine = qemu_argv(plan);
  EXPECT_NE(std::find(nine.begin(), nine.end(), "-append"), nine.end());
  EXPECT_NE((std::find(nine.begin(), nine.end(), "-append") + 1)->find("ignite.share=9p"), std::string::npos);
  EXPECT_EQ(std::find(nine.begin(), nine.end(), "-drive"), nine.end());
}

TEST(MicroVmImage, the_agent_reads_back_the_boot_args_the_host_writes) {
  VmPlan plan;
  auto args = guest::parse_boot_args("console=ttyS0 quiet " + agent_boot_args(plan) + " rdinit=/init\n");
  EXPECT_FALSE(args.share_disks);
  EXPECT_EQ(args.vsock_port, 0u);
  plan.share_disks = {"/d/share.sqfs"};
  args = guest::parse_boot_args("panic=-1 " + agent_boot_args(plan, 1024));
  EXPECT_TRUE(args.share_disks);
  EXPECT_EQ(args.vsock_port, 1024u);
  // Anything else is not a port: the serial port then (and the host waits for nothing on vsock).
  EXPECT_EQ(guest::parse_boot_args("ignite.vsock=12x").vsock_port, 0u);
  EXPECT_EQ(guest::parse_boot_args("ignite.vsock=").vsock_port, 0u);
  EXPECT_EQ(guest::parse_boot_args("ignite.vsock=99999999999").vsock_port, 0u);
  EXPECT_FALSE(guest::parse_boot_args("ignite.share=disksX").share_disks);
}

TEST(MicroVmImage, the_share_image_is_an_uncompressed_fresh_squashfs_of_the_share_dir) {
  const ShareImage how{"/usr/bin/mksquashfs", "/d/share", "/d/share.sqfs", "/d/mksquashfs.log"};
  const auto argv = mksquashfs_argv(how);
  ASSERT_GE(argv.size(), 3u);
  EXPECT_EQ(argv[0], "/usr/bin/mksquashfs");
  EXPECT_EQ(argv[1], "/d/share");
  EXPECT_EQ(argv[2], "/d/share.sqfs");
  for (const char* flag : {"-noappend", "-no-recovery", "-noI", "-noD", "-noF", "-noX", "-no-xattrs"})
    EXPECT_TRUE(has(argv, flag)) << flag;
  // Mount points are crossed (the entries are bind mounts): never -one-file-system.
  EXPECT_FALSE(has(argv, "-one-file-system"));
}

}  // namespace
}  // namespace ignite::sandbox::microvm
