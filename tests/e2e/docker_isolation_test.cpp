// `--isolation docker` end to end: the built binary on the test dockerd (tests/common/
// dockerd.hpp), as a user runs it: run, exec, service.yaml, serve with warm containers, and no
// container left behind, also after `kill -9`.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "../common/dockerd.hpp"
#include "cli_helpers.hpp"
#include "server_helpers.hpp"

namespace ignite::testing {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using namespace std::chrono_literals;

std::size_t containers_with(const std::string& label) {
  auto client = docker::EngineClient::from_env();
  if (!client) return 0;
  auto ids = client->list_containers(label);
  return ids ? ids->size() : 0;
}

class DockerIsolation : public ::testing::Test {
 protected:
  void SetUp() override {
    REQUIRE_SANDBOX();
    const auto& daemon = docker_daemon();
    if (!daemon.ready) GTEST_SKIP() << "no Docker daemon: " << daemon.why;
    env_ = {"DOCKER_HOST=unix://" + daemon.socket};
    dir_ = fs::temp_directory_path() / ("ignite-docker-e2e-" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    fs::permissions(dir_, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec |
                              fs::perms::group_read | fs::perms::others_read);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  fs::path service(const std::string& yaml_extra, const std::string& code) {
    const fs::path d = dir_ / ("svc" + std::to_string(n_++));
    fs::create_directories(d);
    std::ofstream(d / "service.yaml") << "service:\n  name: dock-e2e\n  runtime: python\n  entry: main.py\n" << yaml_extra;
    std::ofstream(d / "main.py") << code;
    fs::permissions(d, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec |
                           fs::perms::group_read | fs::perms::others_read);
    fs::permissions(d / "main.py", fs::perms::owner_read | fs::perms::owner_write | fs::perms::others_read |
                                       fs::perms::group_read);
    return d;
  }

  std::vector<std::string> env_;
  fs::path dir_;
  int n_ = 0;
};

constexpr const char* kWhere = "import os\nprint('docker' if os.path.exists('/.dockerenv') else 'native')\n";

TEST_F(DockerIsolation, the_seed_example_prints_its_sum_in_a_container) {
  auto r = run_cli({"run", examples_dir() + "/data-processor", "--isolation", "docker", "--input",
                    R"({"data":[1,2,3,4,5],"operation":"sum"})", "--json"},
                   env_);
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  auto doc = json::parse(r.out);
  EXPECT_EQ(doc["isolation"], "docker");
  EXPECT_EQ(doc["status"], "ok");
  EXPECT_NE(doc["stdout"].get<std::string>().find("\"result\":15"), std::string::npos) << doc["stdout"];
  EXPECT_GT(doc["metrics"]["memoryPeakBytes"].get<double>(), 0);
}

TEST_F(DockerIsolation, exec_and_service_yaml_choose_the_backend) {
  auto native = run_cli({"exec", "--runtime", "python", "--code", kWhere}, env_);
  EXPECT_EQ(native.out, "native\n") << native.err;
  auto docker = run_cli({"exec", "--runtime", "python", "--isolation", "docker", "--code", kWhere}, env_);
  EXPECT_EQ(docker.out, "docker\n") << docker.err;
  auto by_yaml = run_cli({"run", service("  isolation: docker\n", kWhere).string()}, env_);
  EXPECT_EQ(by_yaml.out, "docker\n") << by_yaml.err;
  // The flag wins over the file.
  auto flag = run_cli({"run", service("  isolation: docker\n", kWhere).string(), "--isolation", "native"}, env_);
  EXPECT_EQ(flag.out, "native\n") << flag.err;
}

TEST_F(DockerIsolation, limits_end_a_container_run_as_they_end_a_native_one) {
  auto timeout = run_cli({"exec", "--runtime", "python", "--isolation", "docker", "--timeout", "500", "--json",
                          "--code", "while True: pass\n"},
                         env_);
  EXPECT_EQ(json::parse(timeout.out)["status"], "timeout") << timeout.err;
  auto oom = run_cli({"exec", "--runtime", "python", "--isolation", "docker", "--memory", "32", "--json", "--code",
                      "x = []\nwhile True: x.append(' ' * (1 << 20))\n"},
                     env_);
  EXPECT_EQ(json::parse(oom.out)["status"], "memory_limit") << oom.err;
}

TEST_F(DockerIsolation, a_daemon_that_is_not_there_is_a_clear_error) {
  auto r = run_cli({"exec", "--runtime", "python", "--isolation", "docker", "--code", "print(1)"},
                   {"DOCKER_HOST=unix:///run/ignite-no-such-docker.sock"});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("docker"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("/run/ignite-no-such-docker.sock"), std::string::npos) << r.err;
}

TEST_F(DockerIsolation, serve_runs_warm_containers_and_leaves_none_behind) {
  const std::string label = "ignite.backend=docker";
  const std::size_t before = containers_with(label);
  {
    ServerProcess server({{"--isolation", "docker", "--pool", "python=1..2"}, env_});
    ASSERT_TRUE(server.started()) << server.stderr_text();
    bool warm = false;
    for (int i = 0; i < 20 && !warm; ++i) {
      auto resp = server.post("/v1/execute", R"J({"runtime":"python","code":"import os\nprint(os.path.exists('/.dockerenv'))"})J");
      ASSERT_EQ(resp.status, 200) << resp.body;
      auto doc = json::parse(resp.body);
      EXPECT_EQ(doc["stdout"], "True\n");
      EXPECT_EQ(doc["isolation"], "docker");
      warm = doc["metrics"]["coldStart"] == false;
      if (!warm) std::this_thread::sleep_for(300ms);
    }
    EXPECT_TRUE(warm) << "no run was warm";
    server.signal(SIGTERM);
    EXPECT_TRUE(server.wait_exit(60s).has_value());
  }
  EXPECT_EQ(containers_with(label), before);
}

TEST_F(DockerIsolation, containers_of_a_killed_server_are_collected_by_the_next_ignite) {
  const std::string label = "ignite.backend=docker";
  const std::size_t before = containers_with(label);
  {
    ServerProcess server({{"--isolation", "docker", "--pool", "python=2..2"}, env_});
    ASSERT_TRUE(server.started()) << server.stderr_text();
    for (int i = 0; i < 100 && containers_with(label) < before + 2; ++i) std::this_thread::sleep_for(100ms);
    ASSERT_GE(containers_with(label), before + 2) << "the pool's containers did not start";
    server.signal(SIGKILL);
    server.wait_exit(10s);
  }
  EXPECT_GE(containers_with(label), before + 1) << "kill -9 left nothing to collect";
  auto r = run_cli({"exec", "--runtime", "python", "--isolation", "docker", "--code", "print(1)"}, env_);
  EXPECT_EQ(r.out, "1\n") << r.err;
  EXPECT_EQ(containers_with(label), before);
}

}  // namespace
}  // namespace ignite::testing
