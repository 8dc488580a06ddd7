// `--isolation microvm` end to end: the built binary boots a QEMU microVM per run (TCG here, so
// a run takes seconds), as a user runs it: exec, run of the seed example, and no QEMU left.
// Skips, with the reason, where this host has no QEMU, guest kernel or agent.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <thread>

#include <nlohmann/json.hpp>

#include "../common/host_processes.hpp"
#include "cli_helpers.hpp"
#include "server_helpers.hpp"

namespace ignite::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

// QEMU processes of the microvm backend on this host (their command line names our agent port;
// other QEMUs, such as scripts/guest-run's, do not count).
int qemu_processes() { return static_cast<int>(host_processes_with("name=ignite.agent").size()); }

// The instance dirs of root's Ignite processes (sys/instance.hpp: /run/ignite as root).
std::set<std::string> instance_dirs() {
  std::set<std::string> dirs;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/run/ignite/instances", ec)) dirs.insert(e.path().string());
  return dirs;
}

class MicroVmIsolation : public ::testing::Test {
 protected:
  void SetUp() override {
    REQUIRE_SANDBOX();
    before_ = qemu_processes();
  }
  // The backend says why it cannot run here (no QEMU, no guest kernel): a skip, not a failure.
  void skip_when_unavailable(const CliResult& r) {
    for (const char* why : {"microvm: qemu-system-x86_64 is not installed", "microvm: no guest kernel",
                            "microvm: ignite-guest-agent is not installed"})
      if (r.err.find(why) != std::string::npos) GTEST_SKIP() << r.err;
  }
  int before_ = 0;
};

TEST_F(MicroVmIsolation, exec_prints_its_result_document_from_a_booted_vm) {
  auto r = run_cli({"exec", "--isolation", "microvm", "--runtime", "python", "--code", "print(6*7)", "--json"});
  skip_when_unavailable(r);
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  auto doc = json::parse(r.out);
  EXPECT_EQ(doc["isolation"], "microvm");
  EXPECT_EQ(doc["status"], "ok");
  EXPECT_EQ(doc["exitCode"], 0);
  EXPECT_EQ(doc["stdout"], "42\n");
  EXPECT_GT(doc["metrics"]["memoryPeakBytes"].get<double>(), 0);
  EXPECT_GT(doc["metrics"]["vm"]["memoryPeakBytes"].get<double>(), doc["metrics"]["memoryPeakBytes"].get<double>());
  EXPECT_GT(doc["metrics"]["vm"]["cpuTimeMs"].get<double>(), 0);
  EXPECT_EQ(qemu_processes(), before_) << "a QEMU outlived its run";
}

TEST_F(MicroVmIsolation, exec_out_writes_the_files_the_program_left_in_out) {
  const fs::path dir = fs::temp_directory_path() / ("ignite-microvm-out-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  auto r = run_cli({"exec", "--isolation", "microvm", "--runtime", "python", "--out", dir.string(), "--code",
                    "import os\nos.makedirs('/out/sub')\nopen('/out/a.txt','w').write('a')\n"
                    "open('/out/sub/b.bin','wb').write(bytes([0, 255, 10]))\n"});
  skip_when_unavailable(r);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.err.find("2 file(s) from /out written to"), std::string::npos) << r.err;
  std::ifstream a(dir / "a.txt"), b(dir / "sub/b.bin", std::ios::binary);
  EXPECT_EQ(std::string((std::istreambuf_iterator<char>(a)), {}), "a");
  EXPECT_EQ(std::string((std::istreambuf_iterator<char>(b)), {}), std::string("\0\xff\n", 3));
  fs::remove_all(dir);
  EXPECT_EQ(qemu_processes(), before_) << "a QEMU outlived its run";
}

TEST_F(MicroVmIsolation, the_seed_example_prints_its_sum_in_a_vm) {
  auto r = run_cli({"run", examples_dir() + "/data-processor", "--isolation", "microvm", "--input",
                    R"({"data":[1,2,3,4,5],"operation":"sum"})", "--json"});
  skip_when_unavailable(r);
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  auto doc = json::parse(r.out);
  EXPECT_EQ(doc["isolation"], "microvm");
  EXPECT_NE(doc["stdout"].get<std::string>().find("\"result\":15"), std::string::npos) << doc["stdout"];
  EXPECT_EQ(qemu_processes(), before_) << "a QEMU outlived its run";
}

TEST_F(MicroVmIsolation, kill_9_of_ignite_mid_run_leaves_no_qemu_and_the_next_ignite_collects_its_dir) {
  // QEMU dies with the thread that started it (PDEATHSIG); its dir goes with the instance's,
  // collected by the next Ignite that starts.
  if (::geteuid() != 0) GTEST_SKIP() << "the instance dirs checked are root's (/run/ignite)";
  const auto instances_before = instance_dirs();
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    const int null_fd = ::open("/dev/null", O_RDWR);
    ::dup2(null_fd, 1);
    ::dup2(null_fd, 2);
    ::execl(IGNITE_BIN, IGNITE_BIN, "exec", "--isolation", "microvm", "--runtime", "python", "--timeout", "60000",
            "--code", "while True: pass", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // Until its VM is up (or 20 s).
  for (int i = 0; i < 200 && qemu_processes() == before_; ++i) std::this_thread::sleep_for(100ms);
  if (qemu_processes() == before_) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    auto probe = run_cli({"exec", "--isolation", "microvm", "--runtime", "python", "--code", "print(1)"});
    skip_when_unavailable(probe);
    FAIL() << "no VM came up: " << probe.err;
  }
  // The killed instance's dir, with its VM's dir (initramfs, console log, the socket QEMU
  // listens on) in it: killed once QEMU listens.
  std::vector<fs::path> vm_dirs;
  for (int i = 0; i < 100 && (vm_dirs.empty() || !fs::exists(vm_dirs[0] / "agent.sock")); ++i) {
    vm_dirs.clear();
    for (const auto& dir : instance_dirs()) {
      if (instances_before.count(dir)) continue;
      std::error_code ec;
      for (const auto& e : fs::directory_iterator(dir, ec))
        if (e.path().filename().string().rfind("microvm-", 0) == 0) vm_dirs.push_back(e.path());
    }
    std::this_thread::sleep_for(50ms);
  }
  // The VMM's cgroup (vmm_jail.hpp), as /proc/<qemu>/cgroup names it: the memory hierarchy's
  // on v1, the unified one on v2.
  fs::path vmm_cgroup;
  if (!vm_dirs.empty()) {
    for (int vmm : host_processes_with(vm_dirs[0].string())) {
      std::ifstream in("/proc/" + std::to_string(vmm) + "/cgroup");
      for (std::string line; std::getline(in, line);) {
        const auto colon = line.find(':', line.find(':') + 1);
        const std::string controllers = line.substr(line.find(':') + 1, colon - line.find(':') - 1);
        if (controllers == "memory") vmm_cgroup = "/sys/fs/cgroup/memory" + line.substr(colon + 1);
        if (controllers.empty() && vmm_cgroup.empty()) vmm_cgroup = "/sys/fs/cgroup" + line.substr(colon + 1);
      }
    }
  }
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  for (int i = 0; i < 50 && qemu_processes() != before_; ++i) std::this_thread::sleep_for(100ms);
  EXPECT_EQ(qemu_processes(), before_) << "a QEMU outlived the ignite that started it";
  ASSERT_EQ(vm_dirs.size(), 1u) << "the killed ignite's VM dir was not where it should be";
  EXPECT_TRUE(fs::exists(vm_dirs[0] / "agent.sock")) << "nothing for the restart to collect: the test proves nothing";

  // The next Ignite that starts (any command that runs) collects the dead instance's dir.
  auto next = run_cli({"exec", "--runtime", "python", "--code", "print(1)"});
  ASSERT_EQ(next.exit_code, 0) << next.err;
  std::error_code ec;
  EXPECT_FALSE(fs::exists(vm_dirs[0].parent_path(), ec)) << "the killed instance's dir survived a restart";
  ASSERT_NE(vmm_cgroup.filename().string().find("microvm-"), std::string::npos)
      << "the VMM was in no cgroup of its own: " << vmm_cgroup;
  EXPECT_FALSE(fs::exists(vmm_cgroup, ec)) << "the killed instance's VMM cgroup survived a restart: " << vmm_cgroup;
}

// A server keeps its microVMs' template: the first run of a shape boots and saves it, later runs
// are clones restored from it, up in a fraction of a boot.
TEST_F(MicroVmIsolation, serve_restores_later_vms_from_a_template_and_leaves_nothing) {
  {
    ServerProcess server({{"--isolation", "microvm", "--pool", "none"}, {}});
    ASSERT_TRUE(server.started()) << server.stderr_text();
    std::vector<double> setup_ms;
    for (int i = 0; i < 3; ++i) {
      auto resp = server.post("/v1/execute", R"J({"runtime":"python","code":"print(6*7)"})J");
      if (resp.status != 200 && resp.body.find("microvm: ") != std::string::npos &&
          (resp.body.find("not installed") != std::string::npos || resp.body.find("no guest kernel") != std::string::npos))
        GTEST_SKIP() << resp.body;
      ASSERT_EQ(resp.status, 200) << resp.body;
      auto doc = json::parse(resp.body);
      EXPECT_EQ(doc["stdout"], "42\n");
      EXPECT_EQ(doc["isolation"], "microvm");
      setup_ms.push_back(doc["metrics"]["setupMs"].get<double>());
    }
    std::cout << "[ microvm  ] setup " << setup_ms[0] << " ms (boot + template), then " << setup_ms[1] << ", "
              << setup_ms[2] << " ms (clones)\n";
    EXPECT_LT(setup_ms[1], setup_ms[0] / 2) << "the second VM was not restored from the template";
    EXPECT_LT(setup_ms[2], setup_ms[0] / 2);
    server.signal(SIGTERM);
    EXPECT_TRUE(server.wait_exit(60s).has_value());
  }
  EXPECT_EQ(qemu_processes(), before_) << "a QEMU outlived the server";
}

// Named pools on microvm: VMs with the runtime started ahead in the guest (warm slots); a
// request is handed to one, and the server's end takes every VM with it.
TEST_F(MicroVmIsolation, a_pool_of_warm_vms_serves_requests_and_leaves_nothing) {
  {
    ServerProcess server({{"--isolation", "microvm", "--pool", "python=1..2"}, {}});
    ASSERT_TRUE(server.started()) << server.stderr_text();
    // Other limits are another kind of run: cold, and it says whether VMs boot here at all.
    auto cold = server.post("/v1/execute", R"J({"runtime":"python","code":"print(1)","memoryMb":200})J");
    if (cold.status != 200 && cold.body.find("microvm: ") != std::string::npos &&
        (cold.body.find("not installed") != std::string::npos || cold.body.find("no guest kernel") != std::string::npos))
      GTEST_SKIP() << cold.body;
    ASSERT_EQ(cold.status, 200) << cold.body;
    EXPECT_EQ(json::parse(cold.body)["metrics"]["coldStart"], true);
    bool idle = false;
    for (int i = 0; i < 600 && !idle; ++i) {
      const json pools = server.get("/v1/pools").json();  // held: a range-for would not keep it
      for (const auto& p : pools["pools"])
        idle = idle || (p["runtime"] == "python" && p["memoryMb"] == 128 && p["idle"].get<int>() > 0);
      if (!idle) std::this_thread::sleep_for(100ms);
    }
    ASSERT_TRUE(idle) << server.get("/v1/pools").body << server.stderr_text();
    auto resp = server.post("/v1/execute",
                            R"J({"runtime":"python","code":"import os,sys\nprint(sys.argv[1:], os.environ['IGNITE_INPUT'], sys.stdin.read(), os.listdir('/app'))","args":["a"],"input":{"k":1},"stdin":"tok"})J");
    ASSERT_EQ(resp.status, 200) << resp.body;
    auto doc = json::parse(resp.body);
    EXPECT_EQ(doc["stdout"], "['a'] {\"k\":1} tok ['main.py']\n") << resp.body;
    EXPECT_EQ(doc["isolation"], "microvm");
    EXPECT_EQ(doc["metrics"]["coldStart"], false) << "the request did not take the warm VM";
    EXPECT_LT(doc["metrics"]["setupMs"].get<double>(), 200.0) << "a warm VM's setup is the hand-off alone";
    EXPECT_TRUE(doc["metrics"]["vm"].is_object()) << resp.body;
    std::cout << "[ microvm  ] warm: setup " << doc["metrics"]["setupMs"] << " ms, run "
              << doc["metrics"]["executionTimeMs"] << " ms\n";
    server.signal(SIGTERM);
    EXPECT_TRUE(server.wait_exit(60s).has_value());
  }
  EXPECT_EQ(qemu_processes(), before_) << "a pooled VM outlived the server";
}

}  // namespace
}  // namespace ignite::testing
