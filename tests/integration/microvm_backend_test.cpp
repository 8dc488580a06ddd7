// The microvm backend with real QEMU microVMs booted under this host's accelerator (TCG here:
// emulation, so timeouts are generous): what a run gets and reports, its limits, and that no
// QEMU process, socket or file is left behind. Skips, with the reason, where QEMU, the guest
// kernel (scripts/guest-kernel) or the agent is missing.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <optional>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <thread>

#include "../common/host_processes.hpp"
#include "../common/loopback_listener.hpp"
#include "../common/python_service.hpp"
#include "microvm_fixture.hpp"
#include "engine/output_files.hpp"
#include "sandbox/common/output_dir.hpp"
#include "sandbox/microvm/microvm_backend.hpp"
#include "sandbox/microvm/vmm_jail.hpp"
#include "sandbox/native/cgroup_layout.hpp"
#include "sys/fd.hpp"
#include "sys/files.hpp"
#include "sys/sha256.hpp"

namespace ignite {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;


TEST_F(MicroVm, a_python_program_runs_in_a_booted_vm_with_its_input_and_is_measured) {
  auto r = run_ok(python("import os, json\nprint(6 * 7, json.loads(os.environ['IGNITE_INPUT'])['n'])\n"
                         "print(open(os.environ['IGNITE_INPUT_FILE']).read())\nprint(os.getuid(), os.getcwd())\n"));
  EXPECT_EQ(r.outcome, Outcome::exited);
  EXPECT_EQ(r.exit_code, 0) << r.stderr_data;
  EXPECT_EQ(r.stdout_data, "42 7\n{\"n\":7}\n60000 /app\n");
  EXPECT_GT(r.usage.wall.count(), 0);
  EXPECT_GT(r.usage.cpu.count(), 0);
  EXPECT_GT(r.usage.peak_memory_bytes, 0u);
  EXPECT_GT(r.setup.count(), 0);
  // The VM's own cost on the host, from QEMU's rusage: more than the job's (a kernel, the agent).
  ASSERT_TRUE(r.vmm.has_value());
  EXPECT_GT(r.vmm->peak_memory_bytes, r.usage.peak_memory_bytes);
  EXPECT_GT(r.vmm->cpu.count(), 0);
  expect_nothing_left();
}

TEST_F(MicroVm, the_program_sees_only_its_mount_plan_not_the_hosts_root) {
  // The guest has the host's whole root read-only under /host; the program's root is the plan.
  auto r = run_ok(python("import os\n"
                         "for p in ['/host', '/init', '/etc/shadow', '/root', '/var', '" + work_.string() + "']:\n"
                         "    print(p, os.path.exists(p))\n"
                         "try:\n    open('/usr/x', 'w')\nexcept OSError as e:\n    print('write', e.errno)\n"));
  EXPECT_EQ(r.exit_code, 0) << r.stderr_data;
  EXPECT_EQ(r.stdout_data, "/host False\n/init False\n/etc/shadow False\n/root False\n/var False\n" + work_.string() +
                               " False\nwrite 30\n");  // EROFS
  expect_nothing_left();
}

TEST_F(MicroVm, the_vm_has_no_network) {
  auto r = run_ok(python("import socket\n"
                         "print(sorted(n for _, n in socket.if_nameindex()))\n"
                         "try:\n    socket.create_connection(('10.0.2.2', 80), timeout=2)\n    print('connected')\n"
                         "except OSError as e:\n    print('refused', e.errno)\n"));
  EXPECT_EQ(r.exit_code, 0) << r.stderr_data;
  // Only loopback (down) at most; no route anywhere: ENETUNREACH.
  EXPECT_EQ(r.stdout_data.find("eth"), std::string::npos) << r.stdout_data;
  EXPECT_NE(r.stdout_data.find("refused 101"), std::string::npos) << r.stdout_data;
  expect_nothing_left();
}

// What the backend cannot give is refused before any VM starts, saying what would.
TEST_F(MicroVm, an_install_egress_a_firecracker_network_and_a_network_without_passt_are_refused_as_unsupported) {
  auto egress = python("print(1)\n");
  egress.egress = Egress{};
  auto r = backend_->run(egress, {}, {});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::unsupported);
  EXPECT_NE(r.error().message.find("egress"), std::string::npos) << r.error().message;

  auto config = *config_;
  config.vmm = sandbox::microvm::Vmm::firecracker;
  auto firecracker = sandbox::microvm::make_microvm_backend(std::move(config));
  ASSERT_TRUE(firecracker.has_value());
  auto network = python("print(1)\n");
  network.limits.network = true;
  r = (*firecracker)->run(network, {}, {});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::unsupported);
  EXPECT_NE(r.error().message.find("IGNITE_VMM=qemu"), std::string::npos) << r.error().message;

  auto without = *config_;
  without.passt.clear();  // a host without passt: no user-mode network to fall back on
  auto no_passt = sandbox::microvm::make_microvm_backend(std::move(without));
  ASSERT_TRUE(no_passt.has_value());
  r = (*no_passt)->run(network, {}, {});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::unsupported);
  EXPECT_NE(r.error().message.find("apt-get install passt"), std::string::npos) << r.error().message;
  expect_nothing_left();
}

TEST_F(MicroVm, a_nonzero_exit_comes_back_with_its_stderr_and_stdin) {
  auto spec = python("import sys\ndata = sys.stdin.read()\nsys.stderr.write('err:' + data)\nsys.exit(3)\n");
  spec.stdin_data = "from-stdin";
  auto r = run_ok(spec);
  EXPECT_EQ(r.outcome, Outcome::exited);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.stderr_data, "err:from-stdin");
  expect_nothing_left();
}

TEST_F(MicroVm, a_program_over_its_wall_time_ends_as_timeout) {
  auto r = run_ok(python("while True: pass\n", 64, 3000));
  EXPECT_EQ(r.outcome, Outcome::wall_time_exceeded);
  EXPECT_EQ(status_name(r.outcome, r.exit_code), "timeout");
  EXPECT_GE(r.usage.wall, 3000ms);
  ASSERT_TRUE(r.vmm.has_value()) << "a VM ended by its deadline is measured too";
  EXPECT_GE(r.vmm->cpu, 2000ms) << "QEMU spun the guest's busy loop";
  expect_nothing_left();
}

TEST_F(MicroVm, a_memory_bomb_ends_as_memory_limit) {
  auto r = run_ok(python("x = []\nwhile True: x.append(' ' * (1 << 20))\n", 48));
  EXPECT_EQ(r.outcome, Outcome::memory_exceeded) << r.stderr_data;
  EXPECT_EQ(status_name(r.outcome, r.exit_code), "memory_limit");
  EXPECT_LE(r.usage.peak_memory_bytes, 48ull << 20);
  ASSERT_TRUE(r.vmm.has_value());
  EXPECT_GT(r.vmm->peak_memory_bytes, 48ull << 20) << "the host sees the guest RAM the bomb filled";
  // The memory limit ends it, not the clock: a bomb that thrashes at its limit without an OOM
  // kill (the kernel reclaiming the interpreter's own text) is killed by the agent's thrash
  // watch within ~1 s of reaching the limit. Measured under TCG: 1.6-7 s in all with load
  // average 9 on 2 cores; the thrashing runs took the whole 20 s wall limit before the watch.
  EXPECT_LT(r.usage.wall, 15s);
  expect_nothing_left();
}

TEST_F(MicroVm, a_program_rereading_more_than_its_limit_from_files_is_not_taken_for_a_bomb) {
  // The standard library (~59 MiB here) read three times under a 48 MiB limit: the second and
  // third passes refault past the thrash budget, but the page cache stays roomy, so the
  // agent's thrash watch must leave it alone (and the kernel has nothing to OOM-kill).
  auto r = run_ok(python("import os, sys\n"
                         "root = os.path.dirname(os.__file__)\n"
                         "total = 0\n"
                         "for _ in range(3):\n"
                         "    for d, _, names in os.walk(root):\n"
                         "        for n in names:\n"
                         "            try:\n"
                         "                with open(os.path.join(d, n), 'rb') as f:\n"
                         "                    while chunk := f.read(1 << 16): total += len(chunk)\n"
                         "            except OSError:\n"
                         "                pass\n"
                         "print(total >> 20)\n",
                         48, 60000));
  EXPECT_EQ(r.outcome, Outcome::exited) << r.stderr_data;
  EXPECT_EQ(r.exit_code, 0) << r.stderr_data;
  std::cout << "[ microvm  ] read " << r.stdout_data;
  expect_nothing_left();
}

// The native syscall policy holds inside the guest too: an `eperm` rule answers EPERM (the
// program goes on), a `kill` rule ends the run as syscall_blocked. Both calls would succeed or
// fail otherwise without the filter; both go straight through syscall(2), so no libc wrapper
// answers first.
TEST_F(MicroVm, the_native_seccomp_policy_holds_inside_the_guest) {
  auto r = run_ok(python(
      "import ctypes, os\n"
      "libc = ctypes.CDLL(None, use_errno=True)\n"
      "print('personality', libc.syscall(135, 0xffffffff), os.strerror(ctypes.get_errno()), flush=True)\n"
      "libc.syscall(304, -100, 0, 0)  # open_by_handle_at: a kill rule\n"
      "print('survived')\n"));
  EXPECT_EQ(r.outcome, Outcome::syscall_blocked) << r.stdout_data << r.stderr_data << r.detail;
  EXPECT_EQ(r.signal, SIGSYS);
  // Named, as native names it: the agent received the notification and killed the job.
  EXPECT_EQ(r.blocked_syscall, "open_by_handle_at");
  EXPECT_EQ(r.detail, "blocked syscall: open_by_handle_at");
  // personality(0xffffffff) only asks: any program may, unless a filter says EPERM.
  EXPECT_EQ(r.stdout_data, "personality -1 Operation not permitted\n") << r.stderr_data;
  expect_nothing_left();
}

TEST_F(MicroVm, a_cancelled_run_kills_its_vm_and_leaves_nothing) {
  std::stop_source stop;
  std::jthread canceller([&] {
    std::this_thread::sleep_for(4s);
    stop.request_stop();
  });
  auto r = run_ok(python("while True: pass\n", 64, 60000), stop.get_token());
  EXPECT_EQ(r.outcome, Outcome::cancelled);
  expect_nothing_left();
}

std::string proc_link(int pid, const std::string& name) {
  std::error_code ec;
  return fs::read_symlink("/proc/" + std::to_string(pid) + "/" + name, ec).string();
}

// The VMM is the next boundary after the guest kernel: it runs jailed (vmm_jail.hpp), as
// Firecracker's jailer would run it, and its cgroup and uid go with it.
TEST_F(MicroVm, the_vmm_runs_jailed_with_a_uid_and_cgroup_of_its_own_and_no_network) {
  if (::geteuid() != 0) GTEST_SKIP() << "the jail needs root (its uids and cgroups)";
  const auto layout = sandbox::native::detect_cgroups();
  ExecutionResult r;
  std::jthread runner([&] { r = run_ok(python("import time\nprint('up')\ntime.sleep(4)\n", 64, 30000)); });
  std::vector<int> vmms;
  for (int i = 0; i < 300 && vmms.empty(); ++i) {
    std::this_thread::sleep_for(100ms);
    vmms = our_processes();
  }
  ASSERT_EQ(vmms.size(), 1u) << "one QEMU, found by its cwd (the VM's dir)";
  const int vmm = vmms[0];
  const fs::path proc = "/proc/" + std::to_string(vmm);
  // QEMU loads its own seccomp filter during its start: looked at once it has.
  std::string status = read_bytes(proc / "status");
  for (int i = 0; i < 100 && status.find("Seccomp:\t2") == std::string::npos; ++i) {
    std::this_thread::sleep_for(50ms);
    status = read_bytes(proc / "status");
  }
  unsigned uid = 0;
  std::sscanf(status.c_str() + status.find("\nUid:"), "\nUid:\t%u", &uid);
  EXPECT_GE(uid, 60000u) << status;
  EXPECT_LT(uid, 61000u) << "a uid of the shared pool";
  for (const char* want : {"CapEff:\t0000000000000000", "CapPrm:\t0000000000000000", "NoNewPrivs:\t1", "Seccomp:\t2"})
    EXPECT_NE(status.find(want), std::string::npos) << want << "\n" << status;
  for (const char* ns : {"ns/net", "ns/ipc", "ns/mnt"})
    EXPECT_NE(proc_link(vmm, ns), fs::read_symlink(std::string("/proc/self/") + ns).string()) << ns;
  // Its root is its own (vmm_root.hpp): the system's program dirs and its VM's dir, no host
  // config, homes or world-writable dirs; a /proc of pids only.
  const fs::path root = proc / "root";
  for (const char* absent : {"etc/shadow", "etc/passwd", "home", "root", "var", "run", "dev/shm", "proc/sys",
                             "proc/kallsyms", "sys"})
    EXPECT_FALSE(fs::exists(root / absent)) << absent << " is in the VMM's root";
  // The scratch dir lies in /tmp here: of /tmp, only the way to the VM's dir.
  const fs::path scratch_in_root = root / scratch_.relative_path();
  EXPECT_EQ(std::distance(fs::directory_iterator(scratch_in_root.parent_path()), fs::directory_iterator()), 1);
  EXPECT_EQ(std::distance(fs::directory_iterator(scratch_in_root), fs::directory_iterator()), 1);
  for (const char* present : {"usr/bin/qemu-system-x86_64", "dev/null", "dev/urandom", "proc/self"})
    EXPECT_TRUE(fs::exists(root / present)) << present << " is missing from the VMM's root";
  EXPECT_TRUE(fs::exists(proc / "cwd" / "console.log")) << "its cwd is its VM's dir";
  EXPECT_TRUE(fs::exists(scratch_in_root / fs::path(proc_link(vmm, "cwd")).filename() / "console.log"))
      << "its VM's dir, at its own path: " << proc_link(vmm, "cwd");
  const std::string mounts = read_bytes(proc / "mountinfo");
  EXPECT_NE(mounts.find(" / / ro,"), std::string::npos) << "its root is read-only\n" << mounts;
  EXPECT_EQ(read_bytes(proc / "cmdline").find(scratch_.string()), std::string::npos)
      << "the jailed QEMU names its files relative to its dir";
  const std::string vm_dir = fs::path(proc_link(vmm, "cwd")).filename().string();
  EXPECT_EQ(vm_dir.rfind("microvm-", 0), 0u) << proc_link(vmm, "cwd");
  EXPECT_EQ(fs::status(scratch_ / vm_dir).permissions() & fs::perms::all, fs::perms::owner_all);

  // Its cgroup, named after its dir, limits its memory to the guest's RAM plus its own.
  fs::path cgroup;
  std::string limit_file;
  if (layout.version == sandbox::native::CgroupVersion::v2) {
    cgroup = layout.v2_base / vm_dir, limit_file = "memory.max";
  } else if (layout.version == sandbox::native::CgroupVersion::v1) {
    cgroup = layout.v1_base.at("memory") / vm_dir, limit_file = "memory.limit_in_bytes";
  }
  if (!cgroup.empty()) {
    EXPECT_NE(read_bytes(proc / "cgroup").find("/" + vm_dir + "\n"), std::string::npos) << read_bytes(proc / "cgroup");
    const auto expected = sandbox::microvm::vmm_limits(sandbox::microvm::vm_memory_mib(64ull << 20), 1, false);
    EXPECT_EQ(read_bytes(cgroup / limit_file), std::to_string(expected.memory_max_bytes) + "\n");
  }
  runner.join();
  EXPECT_EQ(r.stdout_data, "up\n") << r.stderr_data;
  EXPECT_EQ(status_name(r.outcome, r.exit_code), "ok");
  std::error_code ec;
  EXPECT_FALSE(!cgroup.empty() && fs::exists(cgroup, ec)) << "the VMM's cgroup outlived it";
  expect_nothing_left();
}

TEST_F(MicroVm, a_vm_that_cannot_boot_fails_cleanly_without_a_host_path) {
  auto config = sandbox::microvm::detect_microvm_config(scratch_);
  ASSERT_TRUE(config.has_value());
  const fs::path bogus = work_ / "not-a-kernel";
  ASSERT_TRUE(sys::write_new_file(bogus, std::string(4096, '\0')).has_value());
  config->kernel = bogus;  // QEMU refuses it and exits
  auto b = sandbox::microvm::make_microvm_backend(std::move(*config));
  ASSERT_TRUE(b.has_value());
  auto r = (*b)->run(python("print(1)\n"), {}, {});
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("did not come up"), std::string::npos) << r.error().message;
  EXPECT_EQ(r.error().message.find(work_.string()), std::string::npos) << "a host path in the error";
  expect_nothing_left();
}

TEST_F(MicroVm, a_vm_whose_agent_never_says_hello_is_killed_at_the_boot_deadline) {
  // A guest whose init is not our agent (busybox's init: it boots, and never speaks).
  const fs::path busybox = "/bin/busybox";
  std::error_code ec;
  if (!fs::is_regular_file(busybox, ec)) GTEST_SKIP() << "no /bin/busybox (busybox-static) to boot as a silent init";
  auto config = sandbox::microvm::detect_microvm_config(scratch_);
  ASSERT_TRUE(config.has_value());
  config->agent = busybox;
  config->boot_timeout = 4s;
  auto b = sandbox::microvm::make_microvm_backend(std::move(*config));
  ASSERT_TRUE(b.has_value());
  const auto t0 = std::chrono::steady_clock::now();
  auto r = (*b)->run(python("print(1)\n"), {}, {});
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("did not answer in time"), std::string::npos) << r.error().message;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s);
  expect_nothing_left();
}

TEST_F(MicroVm, output_files_come_back_byte_exact_and_a_symlink_as_a_symlink) {
  const fs::path dest = work_ / "out";
  auto r = run_ok(with_output(python("import os\n"
                                     "open('/out/a.txt', 'w').write('hello\\n')\n"
                                     "os.makedirs('/out/sub')\n"
                                     "open('/out/sub/b.bin', 'wb').write(bytes(range(256)) * 300)\n"
                                     "os.chmod('/out/sub/b.bin', 0o755)\n"
                                     "os.symlink('/etc/passwd', '/out/passwd')\n"),
                              dest));
  EXPECT_EQ(r.exit_code, 0) << r.stderr_data;
  EXPECT_EQ(r.output_error, "");
  ASSERT_EQ(r.output.entries.size(), 4u);  // a.txt, passwd, sub, sub/b.bin (walk order)
  EXPECT_EQ(r.output.entries[1].kind, EntryKind::symlink);
  EXPECT_EQ(r.output.entries[1].link, "/etc/passwd");
  EXPECT_TRUE(r.output.entries[3].executable);
  std::string binary;
  for (int i = 0; i < 300; ++i)
    for (int b = 0; b < 256; ++b) binary.push_back(static_cast<char>(b));
  EXPECT_EQ(read_bytes(dest / "a.txt"), "hello\n");
  EXPECT_EQ(read_bytes(dest / "sub/b.bin"), binary);  // 75 KiB: more than one chunk
  EXPECT_TRUE(fs::is_symlink(dest / "passwd"));     // recreated as text, never followed
  EXPECT_EQ(fs::read_symlink(dest / "passwd"), "/etc/passwd");
  expect_nothing_left();
}

TEST_F(MicroVm, a_fifo_in_out_is_refused_in_the_same_words_as_on_native) {
  auto r = run_ok(with_output(python("import os\nos.symlink('/etc/passwd', '/out/link')\nos.mkfifo('/out/pipe')\n"),
                              work_ / "out"));
  EXPECT_EQ(r.outcome, Outcome::exited);
  EXPECT_EQ(r.exit_code, 0) << r.stderr_data;  // the program's own status stays
  EXPECT_TRUE(r.output.entries.empty());
  // The same tree on the host, through native's hand-over (take_output -> copy_tree_out).
  const fs::path tree = work_ / "native-tree", native_dest = work_ / "native-dest";
  fs::create_directories(tree);
  fs::create_directories(native_dest);
  fs::create_symlink("/etc/passwd", tree / "link");
  ASSERT_EQ(::mkfifo((tree / "pipe").c_str(), 0644), 0);
  const int fd = ::open(tree.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ExecutionResult native;
  SandboxSpec spec;
  engine::add_program_output(spec);
  ASSERT_TRUE(sandbox::take_output(*spec.output, native_dest, fd, native).has_value());
  ::close(fd);
  EXPECT_EQ(r.output_error, native.output_error);
  EXPECT_NE(r.output_error.find("pipe: is a FIFO"), std::string::npos) << r.output_error;
  expect_nothing_left();
}

TEST_F(MicroVm, a_program_over_the_out_limit_gets_an_output_error) {
  const fs::path dest = work_ / "out";
  auto spec = with_output(python("f = open('/out/big', 'wb')\nf.truncate(3 << 20)\nf.close()\n"
                                 "open('/out/small', 'w').write('s')\nprint('ok')\n"),
                          dest);
  spec.output->max_bytes = 1 << 20;  // the guest's tmpfs too; a sparse file is larger than it holds
  auto r = run_ok(spec);
  EXPECT_EQ(r.exit_code, 0) << r.stderr_data;
  EXPECT_EQ(r.stdout_data, "ok\n");
  EXPECT_EQ(r.output_error, "/out: big: the tree is larger than 1048576 bytes");
  EXPECT_TRUE(r.output.entries.empty());
  EXPECT_TRUE(fs::is_empty(dest));
  expect_nothing_left();
}

// VMs restored from a template of their shape instead of booted (vm_template.hpp).

double host_time() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// A TCP server on the host's 127.0.0.1 (ephemeral port) that answers one connection's first
// bytes with "pong " and them.
class PongServer {
 public:
  // On every address of the host, or on its loopback alone.
  explicit PongServer(bool loopback_only = false) {
    fd_ = sys::Fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(loopback_only ? INADDR_LOOPBACK : INADDR_ANY);
    socklen_t len = sizeof a;
    if (::bind(fd_.get(), reinterpret_cast<sockaddr*>(&a), len) != 0 || ::listen(fd_.get(), 4) != 0 ||
        ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0)
      return;
    port_ = ntohs(a.sin_port);
    server_ = std::jthread([this](std::stop_token stop) {
      while (!stop.stop_requested()) {
        pollfd p{fd_.get(), POLLIN, 0};
        if (::poll(&p, 1, 100) != 1) continue;
        sys::Fd conn(::accept4(fd_.get(), nullptr, nullptr, SOCK_CLOEXEC));
        if (!conn) continue;
        char buf[64];
        const ssize_t n = ::read(conn.get(), buf, sizeof buf);
        const std::string reply = "pong " + std::string(buf, static_cast<std::size_t>(std::max<ssize_t>(n, 0)));
        (void)!::write(conn.get(), reply.data(), reply.size());
        ++served_;
      }
    });
  }
  int port() const { return port_; }
  int served() const { return served_; }

 private:
  sys::Fd fd_;
  int port_ = 0;
  std::atomic<int> served_{0};
  std::jthread server_;
};

// `network: true`: a NIC whose frames go to passt (user_network.hpp), brought up by the agent.
// The VM reaches the host at its address, as another machine would, and never its loopback
// (QEMU's slirp made the gateway the host's 127.0.0.1). On the template fixture: a clone
// would have its template's devices (none), so the run must boot, and the NIC is there only if
// it did.
TEST_F(MicroVmTemplates, a_network_run_gets_a_nic_and_reaches_the_host_at_its_address_but_not_its_loopback) {
  const std::string host = ::ignite::testing::host_primary_address();
  if (host.empty()) GTEST_SKIP() << "this host has no non-loopback IPv4 address for a VM to reach it at";
  PongServer server;
  PongServer loopback(true);
  ASSERT_NE(server.port(), 0);
  ASSERT_NE(loopback.port(), 0);
  auto spec = python("import socket\n"
                     "print(sorted(n for _, n in socket.if_nameindex()))\n"
                     "print(open('/etc/resolv.conf').read(), end='')\n"
                     "s = socket.create_connection(('" + host + "', " + std::to_string(server.port()) + "), timeout=10)\n"
                     "s.sendall(b'ping')\n"
                     "print(s.recv(64).decode())\n"
                     "for ip in ('10.0.2.2', '127.0.0.1'):\n"
                     "    try:\n"
                     "        socket.create_connection((ip, " + std::to_string(loopback.port()) + "), timeout=3)\n"
                     "        print('loopback reached through', ip)\n"
                     "    except OSError:\n"
                     "        pass\n"
                     "import fcntl, struct\n"  // the program cannot take the NIC down (no CAP_NET_ADMIN)
                     "try:\n    fcntl.ioctl(s.fileno(), 0x8914, struct.pack('16sH', b'eth0', 0))\n    print('down')\n"
                     "except OSError as e:\n    print('ifdown', e.errno)\n",
                     64, 60000);
  spec.limits.network = true;
  auto r = run_ok(spec);
  EXPECT_EQ(status_name(r.outcome, r.exit_code), "ok") << r.stderr_data;
  EXPECT_EQ(r.stdout_data, "['eth0', 'lo']\nnameserver 10.0.2.3\npong ping\nifdown 1\n") << r.stderr_data;
  EXPECT_EQ(server.served(), 1);
  EXPECT_EQ(loopback.served(), 0);
  EXPECT_TRUE(templates().empty()) << "a network run booted; no template was made for it";
  // The next run without the network has no NIC again (and may come from a template).
  auto off = run_ok(python("import socket\nprint(sorted(n for _, n in socket.if_nameindex()))\n"));
  EXPECT_EQ(off.stdout_data, "['lo']\n") << off.stderr_data;
  expect_nothing_left_after_the_backend();
}

// The no-build fallback: Debian's own kernel boots, the agent loads its drivers, and a run gets
// what it gets on ours (its share from disks; limits from the guest's cgroup v2; the network).
TEST_F(MicroVmStockKernel, a_python_program_runs_on_debians_cloud_kernel_with_its_limits_and_network) {
  auto r = run_ok(python("import os, platform\n"
                         "print(platform.release().endswith('-cloud-amd64'), os.getuid(), os.getcwd())\n"));
  EXPECT_EQ(status_name(r.outcome, r.exit_code), "ok") << r.stderr_data;
  EXPECT_EQ(r.stdout_data, "True 60000 /app\n") << r.stderr_data;
  auto bomb = run_ok(python("x = bytearray(1)\nwhile True:\n    x += bytearray(8 << 20)\n", 64, 30000));
  EXPECT_EQ(status_name(bomb.outcome, bomb.exit_code), "memory_limit") << bomb.stderr_data;
  const std::string host = ::ignite::testing::host_primary_address();
  if (host.empty()) GTEST_SKIP() << "this host has no non-loopback IPv4 address for a VM to reach it at";
  PongServer server;
  ASSERT_NE(server.port(), 0);
  auto net = python("import socket\ns = socket.create_connection(('" + host + "', " + std::to_string(server.port()) +
                    "), timeout=10)\ns.sendall(b'stock')\nprint(s.recv(64).decode())\n", 64, 60000);
  net.limits.network = true;
  auto n = run_ok(net);
  EXPECT_EQ(n.stdout_data, "pong stock\n") << n.stderr_data;
  expect_nothing_left();
}

// Every clone resumes the template's kernel state, RNG and clock included: without the host's
// seed and clock in the job, the two clones below would print the same bytes, and a clock
// standing where the template was saved.
TEST_F(MicroVmTemplates, concurrent_clones_of_one_template_draw_different_random_bytes_and_tell_the_time) {
  const auto spec = python("import os, time\nprint(os.urandom(16).hex(), repr(time.time()))\n");
  const auto first = run_ok(spec);  // boots the template, saves it, and runs as its first clone
  ASSERT_EQ(first.exit_code, 0) << first.stderr_data;
  ASSERT_EQ(templates().size(), 1u);
  std::this_thread::sleep_for(2s);  // the template's clock falls behind the host's
  ExecutionResult clones[2];
  double before = host_time(), after = 0;
  {
    std::jthread a([&] { clones[0] = run_ok(spec); });
    std::jthread b([&] { clones[1] = run_ok(spec); });
  }
  after = host_time();
  std::set<std::string> bytes{first.stdout_data.substr(0, 32)};
  for (const auto& c : clones) {
    ASSERT_EQ(c.exit_code, 0) << c.stderr_data;
    bytes.insert(c.stdout_data.substr(0, 32));
    const double guest_time = std::stod(c.stdout_data.substr(33));
    EXPECT_GE(guest_time, before - 0.5) << "the clone's clock stands where its template was saved";
    EXPECT_LE(guest_time, after + 0.5);
    // Restored, not booted: the clone is up before a boot would be.
    EXPECT_LT(c.setup, first.setup) << "clone " << c.setup.count() << " us, template + clone " << first.setup.count();
  }
  EXPECT_EQ(bytes.size(), 3u) << "two VMs drew the same random bytes";
  EXPECT_EQ(templates().size(), 1u) << "one template serves every VM of its shape";
  expect_nothing_left_after_the_backend();
}

TEST_F(MicroVmTemplates, a_clones_memory_bomb_ends_as_memory_limit_and_leaves_the_template_unchanged) {
  auto r = run_ok(python("print('up')\n", 48));
  ASSERT_EQ(r.stdout_data, "up\n") << r.stderr_data;
  ASSERT_EQ(templates().size(), 1u);
  const fs::path ram = template_ram();
  ASSERT_FALSE(ram.empty()) << "no template RAM (a memfd) among this process's descriptors";
  const int seals = [&] {
    sys::Fd fd(::open(ram.c_str(), O_RDONLY | O_CLOEXEC));
    return ::fcntl(fd.get(), F_GET_SEALS);
  }();
  EXPECT_EQ(seals & (F_SEAL_WRITE | F_SEAL_SEAL), F_SEAL_WRITE | F_SEAL_SEAL) << "the template's RAM is not sealed";
  const auto before = sys::sha256_file(ram);
  ASSERT_TRUE(before.has_value()) << before.error().message;

  auto bomb = run_ok(python("x = []\nwhile True: x.append(' ' * (1 << 20))\n", 48));
  EXPECT_EQ(status_name(bomb.outcome, bomb.exit_code), "memory_limit") << bomb.stderr_data << bomb.detail;
  EXPECT_LT(bomb.usage.wall, 15s);
  const auto after = sys::sha256_file(ram);
  ASSERT_TRUE(after.has_value()) << after.error().message;
  EXPECT_EQ(*after, *before) << "a clone wrote its template's RAM";

  auto again = run_ok(python("print('still')\n", 48));  // the template still serves
  EXPECT_EQ(again.stdout_data, "still\n") << again.stderr_data;
  expect_nothing_left_after_the_backend();
}

// The bar: a hundred VMs, timeouts and cancellations among them, two at a time, leave no
// QEMU process, no socket and no memory file beyond the template's own RAM file, which goes
// with the backend. Python without its site module: what is tested here is the VMs' life, not
// the interpreter's start under emulation.
TEST_F(MicroVmTemplates, a_hundred_runs_with_timeouts_and_kills_leave_no_vmm_socket_or_memory_file) {
  const SandboxSpec base = python("print(1)\n", 64, 20000);
  const std::string interpreter = base.argv.at(0);
  std::atomic<int> exited{0}, timed_out{0}, cancelled{0}, other{0};
  std::atomic<long long> setup_us{0}, wall_us{0}, total_us{0};
  auto worker = [&](int first) {
    for (int i = first; i < 100; i += 2) {
      SandboxSpec spec = base;
      std::stop_source stop;
      std::optional<std::jthread> canceller;
      switch (i % 10) {
        case 3:  // over its wall time
          spec.argv = {interpreter, "-S", "-c", "import time; time.sleep(30)"};
          spec.limits.wall_time = 600ms;
          break;
        case 7:  // cancelled while it runs
          spec.argv = {interpreter, "-S", "-c", "import time; time.sleep(30)"};
          canceller.emplace([&stop] {
            std::this_thread::sleep_for(400ms);
            stop.request_stop();
          });
          break;
        default:
          spec.argv = {interpreter, "-S", "-c", "pass"};
      }
      const auto t0 = std::chrono::steady_clock::now();
      auto r = backend_->run(spec, stop.get_token(), {});
      total_us += std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count();
      if (r) setup_us += r->setup.count(), wall_us += r->usage.wall.count();
      if (!r) {
        ADD_FAILURE() << "run " << i << ": " << r.error().message;
        continue;
      }
      const auto status = status_name(r->outcome, r->exit_code);
      (status == "ok" ? exited : status == "timeout" ? timed_out : status == "cancelled" ? cancelled : other)++;
      if (status != (i % 10 == 3 ? "timeout" : i % 10 == 7 ? "cancelled" : "ok"))
        ADD_FAILURE() << "run " << i << ": " << status << " " << r->detail << r->stderr_data;
    }
  };
  {
    std::jthread a(worker, 0), b(worker, 1);
  }
  std::cout << "[ microvm  ] " << exited << " ok, " << timed_out << " timeouts, " << cancelled << " cancelled, "
            << other << " other; mean restore " << setup_us / 100000 << " ms, run " << wall_us / 100000
            << " ms, whole " << total_us / 100000 << " ms\n";
  EXPECT_EQ(exited + timed_out + cancelled, 100);
  EXPECT_EQ(timed_out, 10);
  EXPECT_EQ(cancelled, 10);
  EXPECT_TRUE(our_processes().empty()) << "a QEMU outlived its run";
  std::vector<std::string> left;
  std::error_code ec;
  for (const auto& e : fs::recursive_directory_iterator(scratch_, ec))
    if (e.path().parent_path() == scratch_ ? e.path().filename().string().rfind("template-", 0) != 0
                                           : e.path().parent_path().filename().string().rfind("template-", 0) != 0)
      left.push_back(e.path().string());
  EXPECT_TRUE(left.empty()) << "left by a VM: " << left.front();
  EXPECT_EQ(templates().size(), 1u);
  expect_nothing_left_after_the_backend();
}

// The share as a read-only squashfs disk instead of 9p: what Firecracker (no 9p) gets, checked
// here under QEMU. The same program sees the same root, and nothing of the host beyond it.
// The runtime's files from its runtime disk (runtime_disk.hpp), the job's from the VM's own.
class MicroVmDisks : public MicroVm {
 protected:
  MicroVmDisks() {
    share_disks_ = true;
    runtime_disk_ = true;
  }
  void sees_only_its_plan() {
    auto r = run_ok(python("import os, json\nprint(6 * 7, json.loads(os.environ['IGNITE_INPUT'])['n'])\n"
                           "for p in ['/host', '/disks', '/etc/shadow', '/var', '" + work_.string() + "']:\n"
                           "    print(p, os.path.exists(p))\n"
                           "try:\n    open('/usr/x', 'w')\nexcept OSError as e:\n    print('write', e.errno)\n"
                           "print(os.getuid(), os.getcwd(), sorted(os.listdir('/app')))\n"));
    EXPECT_EQ(r.outcome, Outcome::exited);
    EXPECT_EQ(r.exit_code, 0) << r.stderr_data;
    EXPECT_EQ(r.stdout_data, "42 7\n/host False\n/disks False\n/etc/shadow False\n/var False\n" + work_.string() +
                                 " False\nwrite 30\n60000 /app ['main.py', 'service.yaml']\n");
    expect_nothing_left();
  }
  std::vector<fs::path> disks() const {
    std::vector<fs::path> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(work_ / "runtime-disks", ec)) out.push_back(e.path());
    return out;
  }
};

// Without a runtime disk: the VM's own image holds the runtime's files too.
class MicroVmDisksCopied : public MicroVmDisks {
 protected:
  MicroVmDisksCopied() { runtime_disk_ = false; }
};

TEST_F(MicroVmDisks, a_python_program_runs_from_a_share_on_a_read_only_disk_and_sees_only_its_plan) {
  sees_only_its_plan();
}

TEST_F(MicroVmDisksCopied, a_python_program_runs_from_a_share_on_a_read_only_disk_and_sees_only_its_plan) {
  sees_only_its_plan();
  EXPECT_TRUE(disks().empty());
}

TEST_F(MicroVmDisks, the_runtime_comes_from_one_disk_that_every_vm_shares) {
  // The disk holds the libraries python needs, not the host's whole library dir.
  const std::string count = "import os\nprint(len(os.listdir('/usr/lib/x86_64-linux-gnu')))\n";
  auto first = run_ok(python(count));
  ASSERT_EQ(first.exit_code, 0) << first.stderr_data;
  const auto made = disks();
  ASSERT_EQ(made.size(), 2u);  // the disk and the lock
  fs::path disk;
  for (const auto& p : made)
    if (p.extension() == ".sqfs") disk = p;
  ASSERT_FALSE(disk.empty());
  EXPECT_EQ(disk.filename().string().rfind("python-", 0), 0u) << disk;
  struct stat st {};
  ASSERT_EQ(::stat(disk.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0644u);
  EXPECT_EQ(::stat((work_ / "runtime-disks").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);  // ours alone
  const auto built_at = fs::last_write_time(disk);

  std::error_code ec;
  std::size_t on_host = 0;
  for (auto it = fs::directory_iterator("/usr/lib/x86_64-linux-gnu", ec); !ec && it != fs::directory_iterator(); ++it)
    ++on_host;
  const auto seen = std::stoul(first.stdout_data);
  EXPECT_GT(seen, 0u);
  EXPECT_LT(seen, on_host) << "the guest saw the host's whole library dir: the runtime did not come from its disk";

  auto second = run_ok(python("import sys\nprint(sys.version_info[0])\n"));
  EXPECT_EQ(second.stdout_data, "3\n") << second.stderr_data;
  EXPECT_EQ(disks().size(), 2u);
  EXPECT_EQ(fs::last_write_time(disk), built_at) << "built again instead of shared";
  expect_nothing_left();
}

// The Firecracker driver on a host that has it: the binary (on PATH or $IGNITE_FIRECRACKER) and
// hardware KVM. Skips with the reason everywhere else (this build machine has neither).
class MicroVmFirecracker : public MicroVm {
 protected:
  MicroVmFirecracker() { vmm_ = "firecracker"; }
};

TEST_F(MicroVmFirecracker, a_python_program_runs_in_a_firecracker_vm_and_a_bomb_and_a_sleep_end_as_on_qemu) {
  auto r = run_ok(python("import os, json\nprint(6 * 7, json.loads(os.environ['IGNITE_INPUT'])['n'])\n"
                         "print(os.path.exists('/host'), os.getuid(), os.getcwd())\n"));
  EXPECT_EQ(r.outcome, Outcome::exited);
  EXPECT_EQ(r.exit_code, 0) << r.stderr_data;
  EXPECT_EQ(r.stdout_data, "42 7\nFalse 60000 /app\n");
  ASSERT_TRUE(r.vmm.has_value());
  EXPECT_GT(r.vmm->peak_memory_bytes, r.usage.peak_memory_bytes);

  auto bomb = run_ok(python("b = []\nwhile True:\n    b.append(bytearray(8 << 20))\n", 48));
  EXPECT_EQ(status_name(bomb.outcome, bomb.exit_code), "memory_limit") << bomb.stderr_data;
  auto sleep = run_ok(python("import time\ntime.sleep(30)\n", 64, 2000));
  EXPECT_EQ(status_name(sleep.outcome, sleep.exit_code), "timeout");
  auto net = run_ok(python("import socket\nprint(sorted(n for _, n in socket.if_nameindex()))\n"));
  EXPECT_EQ(net.stdout_data.find("eth"), std::string::npos) << "no network device: " << net.stdout_data;
  expect_nothing_left();
}

}  // namespace
}  // namespace ignite
