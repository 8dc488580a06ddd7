// Issue 9's promises about what Ignite keeps on the host and hands to programs, through the CLI:
// input of any size, clear errors for what execve would refuse, private runtime dirs, and what
// a killed Ignite left behind collected by the next one without touching live ones.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "cli_helpers.hpp"
#include "server_helpers.hpp"
#include "sys/temp_dir.hpp"

namespace ignite::testing {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
using namespace std::chrono_literals;

#define REQUIRE_ROOT() \
  if (::geteuid() != 0) GTEST_SKIP() << "needs root for the native sandbox"

TEST(HostState, input_of_any_size_reaches_the_program_through_a_file) {
  REQUIRE_ROOT();
  auto dir = sys::TempDir::create(fs::temp_directory_path(), "ignite-input-");
  ASSERT_TRUE(dir);
  const std::string big = "{\"data\":\"" + std::string(300 * 1024, 'x') + "\"}";
  std::ofstream(dir->path() / "input.json") << big;
  auto r = run_cli({"exec", "--runtime", "python", "--json", "--input", "@" + (dir->path() / "input.json").string(),
                    "--code",
                    "import os, json\nprint(len(json.load(open(os.environ['IGNITE_INPUT_FILE']))['data']),"
                    " 'IGNITE_INPUT' in os.environ)"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(Json::parse(r.out)["stdout"], "307200 False\n");
  // Small input: both ways.
  r = run_cli({"exec", "--runtime", "python", "--input", "{\"a\":1}", "--code",
               "import os\nprint(os.environ['IGNITE_INPUT'], open(os.environ['IGNITE_INPUT_FILE']).read())"});
  EXPECT_EQ(r.out, "{\"a\":1} {\"a\":1}\n") << r.err;
}

TEST(HostState, an_argument_execve_would_refuse_is_a_clear_error_and_big_input_works) {
  REQUIRE_ROOT();
  ServerProcess server({{"--body-limit", "4194304"}, {}});
  ASSERT_TRUE(server.started()) << server.stderr_text();
  Json body = {{"runtime", "python"}, {"code", "import sys\nprint(len(sys.argv))"},
               {"args", {std::string(200 * 1024, 'a')}}};
  auto r = server.post("/v1/execute", body.dump());
  EXPECT_EQ(r.status, 422) << r.body;
  EXPECT_NE(r.body.find("args[0] is 204800 bytes; a program argument can be at most 131071"), std::string::npos)
      << r.body;
  // Input under the body limit works whatever its size (it is not squeezed into execve).
  body = {{"runtime", "python"}, {"code", "import os\nprint(os.path.getsize(os.environ['IGNITE_INPUT_FILE']))"},
          {"input", std::string(2 << 20, 'y')}};
  r = server.post("/v1/execute", body.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["stdout"], std::to_string((2 << 20) + 2) + "\n");
}

TEST(HostState, a_runtime_dir_another_user_planted_is_not_used) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to act as two users";
  if (::access("/usr/bin/setpriv", X_OK) != 0) GTEST_SKIP() << "needs setpriv (util-linux)";
  // An unprivileged user without XDG_RUNTIME_DIR, whose /tmp/ignite-UID another user made first.
  const unsigned uid = 54321, attacker = 54322;
  const fs::path planted = "/tmp/ignite-" + std::to_string(uid);
  const fs::path home = "/tmp/ignite-home-" + std::to_string(uid);
  fs::remove_all(planted);
  fs::create_directories(planted);
  ASSERT_EQ(::chown(planted.c_str(), attacker, attacker), 0);
  ::chmod(planted.c_str(), 0777);
  fs::create_directories(home);
  ASSERT_EQ(::chown(home.c_str(), uid, uid), 0);
  auto r = run_program({"/usr/bin/setpriv", "--reuid=" + std::to_string(uid), "--regid=" + std::to_string(uid),
                        "--clear-groups", "/usr/bin/env", "-u", "XDG_RUNTIME_DIR", "HOME=" + home.string(),
                        IGNITE_BIN, "exec", "--allow-degraded", "--runtime", "python", "--code", "print('ran')"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "ran\n");
  EXPECT_NE(r.err.find("refusing to use " + planted.string() + ": it is owned by uid 54322"), std::string::npos)
      << r.err;
  EXPECT_TRUE(fs::is_empty(planted)) << "nothing of the run was put where the attacker can swap it";
  fs::remove_all(planted);
  fs::remove_all(home);
  for (const auto& e : fs::directory_iterator("/tmp")) {
    const bool fresh = e.path().filename().string().rfind("ignite-" + std::to_string(uid) + "-", 0) == 0;
    EXPECT_FALSE(fresh) << "the fresh private dir outlived the run: " << e.path();
    if (fresh) fs::remove_all(e.path());
  }
}

// Paths under `root` (depth-bounded) whose name starts with `prefix`.
std::vector<fs::path> find_named(const fs::path& root, const std::string& prefix, int depth) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it.depth() > depth) {
      it.disable_recursion_pending();
      continue;
    }
    if (it->path().filename().string().rfind(prefix, 0) == 0) out.push_back(it->path());
  }
  return out;
}

pid_t start_cli(const std::vector<std::string>& args) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<char*> argv = {const_cast<char*>(IGNITE_BIN)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    const int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execv(IGNITE_BIN, argv.data());
    ::_exit(127);
  }
  return pid;
}

// Waits until the instance of the `ignite` process `pid` is registered and has a run going.
std::string instance_of(pid_t pid) {
  const std::string prefix = "i" + std::to_string(pid) + "-";
  for (int i = 0; i < 200; ++i) {
    for (const auto& e : fs::directory_iterator("/run/ignite/instances")) {
      const std::string name = e.path().filename().string();
      if (name.rfind(prefix, 0) == 0 && !find_named("/sys/fs/cgroup", name + ".", 8).empty()) return name;
    }
    std::this_thread::sleep_for(50ms);
  }
  return "";
}

TEST(HostState, what_a_killed_ignite_left_is_collected_and_a_live_ones_runs_are_not) {
  REQUIRE_ROOT();
  const std::vector<std::string> sleeper = {"exec", "--runtime", "python", "--timeout", "60000", "--code",
                                            "import time\ntime.sleep(60)"};
  const pid_t live = start_cli(sleeper), killed = start_cli(sleeper);
  const std::string live_id = instance_of(live), killed_id = instance_of(killed);
  ASSERT_FALSE(live_id.empty());
  ASSERT_FALSE(killed_id.empty());
  ::kill(killed, SIGKILL);
  ::waitpid(killed, nullptr, 0);
  // Nothing could clean up after the SIGKILL: its dir and cgroups are still there.
  EXPECT_TRUE(fs::exists("/run/ignite/instances/" + killed_id));

  // The next Ignite to start collects them, and leaves the live one alone.
  auto r = run_cli({"exec", "--runtime", "python", "--code", "print(1)"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_FALSE(fs::exists("/run/ignite/instances/" + killed_id));
  EXPECT_TRUE(find_named("/sys/fs/cgroup", killed_id + ".", 8).empty());
  EXPECT_TRUE(fs::exists("/run/ignite/instances/" + live_id));
  EXPECT_FALSE(find_named("/sys/fs/cgroup", live_id + ".", 8).empty());
  EXPECT_EQ(::waitpid(live, nullptr, WNOHANG), 0) << "the live run was not disturbed";

  ::kill(live, SIGTERM);
  ::waitpid(live, nullptr, 0);
  EXPECT_FALSE(fs::exists("/run/ignite/instances/" + live_id)) << "a cancelled run cleans up after itself";
}

TEST(HostState, killing_the_server_kills_its_runs_and_a_restart_collects_what_it_left) {
  REQUIRE_ROOT();
  NATIVE_SUITE_ONLY("it looks for the runs' host cgroups; a microVM's kill -9 path is "
                    "MicroVmIsolation.kill_9_of_ignite_mid_run_leaves_no_qemu_and_the_next_ignite_collects_its_dir");
  std::string id;
  {
    ServerProcess server({{}, {}});
    ASSERT_TRUE(server.started()) << server.stderr_text();
    const std::string marker = "ignite-killed-server-" + std::to_string(::getpid());
    // A run that would go on for a minute, started and left running.
    RawConnection c(server.port());
    ASSERT_TRUE(c.send(format_request("POST", "/v1/execute",
                                      Json{{"runtime", "python"}, {"timeoutMs", 60000},
                                           {"code", "import time\n# " + marker + "\ntime.sleep(60)"}}
                                          .dump(),
                                      {})));
    id = instance_of(server.pid());
    ASSERT_FALSE(id.empty());
    const auto cgroups = find_named("/sys/fs/cgroup", id + ".", 8);
    ASSERT_FALSE(cgroups.empty());
    server.signal(SIGKILL);
    ASSERT_TRUE(server.wait_exit(5s).has_value());
    // The sandbox's init died with the server (PDEATHSIG): its cgroup is empty within a moment.
    bool empty = false;
    for (int i = 0; i < 100 && !empty; ++i) {
      empty = true;
      for (const auto& cg : cgroups) {
        std::ifstream procs(cg / "cgroup.procs");
        std::string pid;
        if (procs >> pid) empty = false;
      }
      if (!empty) std::this_thread::sleep_for(20ms);
    }
    EXPECT_TRUE(empty) << "a program outlived the server";
    EXPECT_TRUE(fs::exists("/run/ignite/instances/" + id)) << "nothing could clean up after SIGKILL";
  }
  ServerProcess restarted({{}, {}});
  ASSERT_TRUE(restarted.started()) << restarted.stderr_text();
  EXPECT_FALSE(fs::exists("/run/ignite/instances/" + id)) << "staged code and scratch of the dead server";
  EXPECT_TRUE(find_named("/sys/fs/cgroup", id + ".", 8).empty());
}

}  // namespace
}  // namespace ignite::testing
