// Ignite's own container image (issue 17): built from the release tarball without a registry
// (scripts/build-server-image), started with the documented least privilege
// (deploy/docker/least-privilege.flags: no --privileged), it serves the seed; a fork bomb and a
// memory bomb in requests are contained, and the container stays healthy (its HEALTHCHECK).
// Requests go through `docker exec` + the image's busybox wget: the test daemon has no bridge.
#include <unistd.h>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "../common/dockerd.hpp"
#include "server_helpers.hpp"
#include "sys/temp_dir.hpp"

namespace ignite::testing {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

using Shell = ShellResult;
Shell shell(const std::string& command) { return run_shell(command); }

// The documented flags, one per line, paths relative to the source dir made absolute.
std::string least_privilege_flags() {
  std::ifstream in(fs::path(IGNITE_SOURCE_DIR) / "deploy/docker/least-privilege.flags");
  std::string line, flags;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    const std::string rel = "seccomp=deploy/";
    if (const auto at = line.find(rel); at != std::string::npos)
      line.replace(at + 8, 0, std::string(IGNITE_SOURCE_DIR) + "/");
    flags += " " + sh_quote(line);
  }
  return flags;
}

class ServerImage : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto& daemon = docker_daemon();
    if (!daemon.ready) GTEST_SKIP() << "no Docker daemon: " << daemon.why;
    if (shell("command -v docker").status != 0) GTEST_SKIP() << "the docker CLI is not installed (docker.io)";
    if (!fs::exists("/bin/busybox")) GTEST_SKIP() << "busybox-static is not installed (the image's healthcheck)";
    auto dir = sys::TempDir::create(fs::temp_directory_path(), "ignite-image-test-");
    ASSERT_TRUE(dir);
    dir_.emplace(std::move(*dir));
    const std::string src = IGNITE_SOURCE_DIR;
    const fs::path build = fs::path(IGNITE_BIN).parent_path().parent_path().parent_path();
    const Shell made = shell("IGNITE_BUILD_DIR=" + sh_quote(build.string()) + " " + sh_quote(src + "/scripts/make-dist") + " " +
                             sh_quote((dir_->path() / "dist").string()));
    ASSERT_EQ(made.status, 0) << made.out;
    const std::string tarball = made.out.substr(made.out.rfind('\n', made.out.size() - 2) + 1);
    const Shell built = shell(sh_quote(src + "/scripts/build-server-image") + " --tag " + tag_ + " " +
                              sh_quote(tarball.substr(0, tarball.find_last_not_of('\n') + 1)));
    ASSERT_EQ(built.status, 0) << built.out;
  }
  void TearDown() override {
    if (!dir_) return;
    shell("docker rm -f " + name_);
    shell("docker rmi -f " + tag_);
  }
  // POST `body` to `path` of the server in the container.
  Json post(const std::string& path, const std::string& body) {
    const Shell r = shell("docker exec " + name_ + " busybox wget -q -O- --post-data " + sh_quote(body) +
                          " http://127.0.0.1:8080" + path);
    EXPECT_EQ(r.status, 0) << r.out;
    const Json doc = Json::parse(r.out, nullptr, false);
    EXPECT_FALSE(doc.is_discarded()) << r.out;
    return doc;
  }
  std::string health() const {
    const Shell r = shell("docker inspect --format '{{.State.Health.Status}}' " + name_);
    return r.out.substr(0, r.out.find('\n'));
  }
  const std::string tag_ = "ignite-test/server:" + std::to_string(::getpid());
  const std::string name_ = "ignite-test-server-" + std::to_string(::getpid());
  std::optional<sys::TempDir> dir_;
};

TEST_F(ServerImage, serves_the_seed_with_least_privilege_and_contains_bombs) {
  const Shell started = shell("docker run -d --name " + name_ + least_privilege_flags() + " --health-interval=1s " + tag_);
  ASSERT_EQ(started.status, 0) << started.out;
  EXPECT_EQ(shell("docker inspect --format '{{.HostConfig.Privileged}}' " + name_).out, "false\n");

  // The server is up when /health answers.
  bool up = false;
  for (int i = 0; i < 100 && !up; ++i) {
    up = shell("docker exec " + name_ + " busybox wget -q -O- http://127.0.0.1:8080/health").status == 0;
    if (!up) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_TRUE(up) << shell("docker logs " + name_).out;
  // Full isolation, not the rlimit-only fallback: the entrypoint made its own cgroups writable.
  const Shell doctor = shell("docker exec " + name_ + " /opt/ignite/bin/ignite doctor");
  EXPECT_NE(doctor.out.find("isolation level for `ignite run`: full"), std::string::npos) << doctor.out;

  const Json seed = post("/services/data-processor/execute", R"j({"input":{"data":[1,2,3],"operation":"sum"}})j");
  EXPECT_NE(seed.value("output", "").find("\"result\":6"), std::string::npos) << seed.dump();
  EXPECT_EQ(seed.value("isolationLevel", ""), "full");

  const Json fork_bomb = post("/v1/execute", R"j({"runtime":"python","code":"import os\nwhile True:\n  os.fork()"})j");
  EXPECT_NE(fork_bomb.value("status", "ok"), "ok") << fork_bomb.dump();
  EXPECT_LE(fork_bomb["metrics"].value("pidsPeak", 1000), 64) << fork_bomb.dump();

  const Json memory_bomb =
      post("/v1/execute", R"j({"runtime":"python","memoryMb":64,"code":"x=[]\nwhile True:\n  x.append(bytearray(1<<20))"})j");
  EXPECT_EQ(memory_bomb.value("status", ""), "memory_limit") << memory_bomb.dump();

  // A sleeper ends at its deadline (the sandbox's processes run as another uid: killing them
  // takes CAP_KILL), and a file the program left unreadable in /out still comes back (the
  // sandbox's uid owns it: reading it takes CAP_DAC_OVERRIDE).
  const Json sleeper = post("/v1/execute", R"j({"runtime":"python","timeoutMs":1000,"code":"import time\ntime.sleep(30)"})j");
  EXPECT_EQ(sleeper.value("status", ""), "timeout") << sleeper.dump();
  EXPECT_LT(sleeper["metrics"].value("executionTimeMs", 1e9), 5000.0) << sleeper.dump();
  const Json private_file = post(
      "/v1/execute",
      R"j({"runtime":"python","code":"import os\nopen(\"/out/a.txt\",\"w\").write(\"hi\")\nos.chmod(\"/out/a.txt\",0o600)"})j");
  ASSERT_TRUE(private_file.contains("files")) << private_file.dump();
  ASSERT_EQ(private_file["files"].size(), 1u) << private_file.dump();
  EXPECT_EQ(private_file["files"][0].value("content", ""), "hi");

  // Still serving, and docker's own healthcheck says so.
  const Json again = post("/services/data-processor/execute", R"j({"input":{"data":[4,5],"operation":"sum"}})j");
  EXPECT_NE(again.value("output", "").find("\"result\":9"), std::string::npos) << again.dump();
  std::string status;
  for (int i = 0; i < 100 && status != "healthy"; ++i) {
    status = health();
    if (status != "healthy") std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_EQ(status, "healthy");
  EXPECT_EQ(shell("docker inspect --format '{{.State.Running}}' " + name_).out, "true\n");
}

// deploy/compose.yaml with Debian's docker-compose: serve, NATS JetStream and two workers come
// up; a job POSTed to /v1/jobs goes through NATS to a worker (the server runs none itself with
// --nats); a service call succeeds; `down` leaves no container of the project.
TEST_F(ServerImage, compose_brings_up_serve_nats_and_two_workers_and_down_leaves_nothing) {
  if (shell("command -v docker-compose").status != 0) GTEST_SKIP() << "docker-compose is not installed (scripts/install-deps)";
  const std::string nats_tag = "ignite-test/nats:" + std::to_string(::getpid());
  const Shell nats = shell(sh_quote(std::string(IGNITE_SOURCE_DIR) + "/scripts/build-nats-image") + " --tag " + nats_tag);
  ASSERT_EQ(nats.status, 0) << nats.out;
  // A free port for the published 8080.
  const Shell port_probe = shell("/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind((\"127.0.0.1\",0)); print(s.getsockname()[1])'");
  const std::string port = port_probe.out.substr(0, port_probe.out.find('\n'));
  const std::string project = "ignitetest" + std::to_string(::getpid());
  const std::string compose = "cd " + sh_quote(IGNITE_SOURCE_DIR) + " && IGNITE_IMAGE=" + tag_ + " NATS_IMAGE=" + nats_tag +
                              " IGNITE_PORT=" + port + " docker-compose -f deploy/compose.yaml -p " + project + " ";
  struct Down {
    std::string cmd;
    ~Down() { shell(cmd + "down -v --timeout 5"); }
  } down{compose};
  const Shell up = shell(compose + "up -d");
  ASSERT_EQ(up.status, 0) << up.out;

  const std::string base = "http://127.0.0.1:" + port;
  bool healthy = false;
  for (int i = 0; i < 100 && !healthy; ++i) {
    healthy = shell("curl -sf --max-time 2 " + base + "/health").status == 0;
    if (!healthy) std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_TRUE(healthy) << shell(compose + "logs --tail 20").out;

  const Shell seed = shell("curl -s -X POST " + base + "/services/data-processor/execute -d " +
                           sh_quote(R"j({"input":{"data":[1,2,3],"operation":"sum"}})j"));
  EXPECT_NE(seed.out.find(R"(\"result\":6)"), std::string::npos) << seed.out;

  // With the workers stopped the job waits in the stream; started again, one of them runs it.
  ASSERT_EQ(shell(compose + "stop --timeout 5 worker-1 worker-2").status, 0);
  const Shell queued = shell("curl -s -X POST " + base + "/v1/jobs -d " + sh_quote(R"j({"runtime":"python","code":"print(6*7)"})j"));
  const Json job = Json::parse(queued.out, nullptr, false);
  ASSERT_TRUE(job.is_object() && job.contains("id")) << queued.out;
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const Json waiting = Json::parse(shell("curl -s " + base + "/v1/jobs/" + job["id"].get<std::string>()).out, nullptr, false);
  EXPECT_EQ(waiting.value("status", ""), "queued") << waiting.dump();
  ASSERT_EQ(shell(compose + "start worker-1 worker-2").status, 0);
  Json done;
  for (int i = 0; i < 150; ++i) {
    done = Json::parse(shell("curl -s " + base + "/v1/jobs/" + job["id"].get<std::string>()).out, nullptr, false);
    if (done.is_object() && done.value("status", "") == "done") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  ASSERT_EQ(done.value("status", ""), "done") << done.dump();
  EXPECT_EQ(done["result"].value("stdout", ""), "42\n");
  EXPECT_EQ(done["result"].value("isolationLevel", ""), "full");

  const Shell stopped = shell(compose + "down --timeout 5");
  EXPECT_EQ(stopped.status, 0) << stopped.out;
  EXPECT_EQ(shell("docker ps -aq --filter label=com.docker.compose.project=" + project).out, "");
  shell("docker rmi -f " + nats_tag);
}

}  // namespace
}  // namespace ignite::testing
