// EngineClient against a real dockerd (tests/common/dockerd.hpp starts one on its own socket
// when none answers): build an image from an in-memory context, run hardened containers from
// it, read their demultiplexed logs, see an OOM kill, and leave nothing behind.
#include <unistd.h>

#include <gtest/gtest.h>

#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "../common/dockerd.hpp"
#include "docker/engine_client.hpp"
#include "docker/tar_writer.hpp"

namespace ignite::docker {
namespace {

using nlohmann::json;

const std::string& test_label_value() {
  static const std::string value = "docker_engine_test-" + std::to_string(::getpid());
  return value;
}
constexpr const char* kLabel = "ignite.test";
std::string label_filter() { return std::string(kLabel) + "=" + test_label_value(); }
std::string image_tag() { return "ignite-test/probe:" + std::to_string(::getpid()); }

// Removes the container on every path out of a test.
struct ContainerGuard {
  EngineClient& client;
  std::string id;
  ~ContainerGuard() {
    if (id.empty()) return;
    static_cast<void>(client.kill(id));
    const Status removed = client.remove(id, true);
    EXPECT_TRUE(removed) << removed.error().message;
  }
};

// One image for the suite: FROM scratch + the static probe, built once, removed at the end.
class DockerEngine : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const auto& daemon = testing::docker_daemon();
    if (!daemon.ready) return;
    auto client = EngineClient::from_env();
    if (!client) return;
    std::ifstream in(IGNITE_PROBE, std::ios::binary);
    std::stringstream probe;
    probe << in.rdbuf();
    TarWriter tar;
    if (!tar.add_file("Dockerfile", "FROM scratch\nCOPY probe /probe\nENTRYPOINT [\"/probe\"]\n") ||
        !tar.add_file("probe", probe.str(), 0755))
      return;
    auto built = client->build_image(tar.finish(), image_tag(), {{kLabel, test_label_value()}});
    if (!built) {
      build_error_ = new std::string(built.error().message);
      return;
    }
    image_built_ = true;
  }

  static void TearDownTestSuite() {
    if (!image_built_) return;
    auto client = EngineClient::from_env();
    if (!client) return;
    if (auto left = client->list_containers(label_filter()); left)
      for (const std::string& id : *left) static_cast<void>(client->remove(id, true));
    const Status removed = client->remove_image(image_tag(), true);
    EXPECT_TRUE(removed) << removed.error().message;
    EXPECT_FALSE(client->inspect_image(image_tag())) << "the test image is still there";
    image_built_ = false;
  }

  void SetUp() override {
    const auto& daemon = testing::docker_daemon();
    if (!daemon.ready) GTEST_SKIP() << "no Docker daemon: " << daemon.why;
    auto made = EngineClient::from_env();
    ASSERT_TRUE(made) << made.error().message;
    client_.emplace(std::move(made).value());
    if (build_error_ != nullptr) FAIL() << "building the test image: " << *build_error_;
    ASSERT_TRUE(image_built_);
  }

  // The hardened config the backend will use: no network, read-only root, no capabilities,
  // no-new-privileges, memory without swap, a pids limit, non-root, a size-capped /tmp.
  static json hardened(std::vector<std::string> cmd, long memory = 64 << 20) {
    return {{"Image", image_tag()},
            {"Cmd", cmd},
            {"User", "65534:65534"},
            {"HostConfig",
             {{"NetworkMode", "none"},
              {"ReadonlyRootfs", true},
              {"CapDrop", json::array({"ALL"})},
              {"SecurityOpt", json::array({"no-new-privileges"})},
              {"Memory", memory},
              {"MemorySwap", memory},
              {"PidsLimit", 64},
              {"Tmpfs", {{"/tmp", "rw,nosuid,nodev,size=16m,mode=1777"}}}}}};
  }

  // create + start + wait; the guard removes it whatever happens next.
  WaitResult run(ContainerGuard& guard, std::vector<std::string> cmd, long memory = 64 << 20) {
    auto id = client_->create_container(hardened(std::move(cmd), memory), "", {{kLabel, test_label_value()}});
    EXPECT_TRUE(id) << id.error().message;
    if (!id) return {};
    guard.id = *id;
    const Status started = client_->start(guard.id);
    EXPECT_TRUE(started) << started.error().message;
    auto waited = client_->wait(guard.id, std::chrono::seconds(60));
    EXPECT_TRUE(waited) << waited.error().message;
    return waited ? *waited : WaitResult{};
  }

  std::optional<EngineClient> client_;
  static inline bool image_built_ = false;
  static inline std::string* build_error_ = nullptr;
};

TEST_F(DockerEngine, ping_and_version_speak_the_pinned_api) {
  ASSERT_TRUE(client_->ping());
  auto version = client_->version();
  ASSERT_TRUE(version) << version.error().message;
  ASSERT_TRUE((*version)["ApiVersion"].is_string());
  std::cout << "dockerd " << (*version)["Version"].get<std::string>() << ", API "
            << (*version)["ApiVersion"].get<std::string>() << "\n";
}

TEST_F(DockerEngine, built_image_has_its_label_and_a_size) {
  auto image = client_->inspect_image(image_tag());
  ASSERT_TRUE(image) << image.error().message;
  EXPECT_GT((*image)["Size"].get<long>(), 100'000);  // the static probe
  EXPECT_EQ((*image)["Config"]["Labels"][kLabel], test_label_value());
}

TEST_F(DockerEngine, a_hardened_container_runs_as_nobody_and_reports_its_exit_code) {
  ContainerGuard guard{*client_, {}};
  const WaitResult done = run(guard, {"id"});
  EXPECT_EQ(done.exit_code, 0) << done.error;
  auto logs = client_->logs(guard.id, 1 << 20);
  ASSERT_TRUE(logs) << logs.error().message;
  EXPECT_EQ(logs->out.rfind("uid=65534 gid=65534 ", 0), 0u) << logs->out;
  EXPECT_EQ(logs->err, "");

  // The daemon kept every limit (it drops some silently when the kernel lacks them, e.g.
  // MemorySwap without swap accounting).
  auto inspected = client_->inspect_container(guard.id);
  ASSERT_TRUE(inspected) << inspected.error().message;
  const json& host = (*inspected)["HostConfig"];
  EXPECT_EQ(host["Memory"], 64 << 20);
  EXPECT_EQ(host["MemorySwap"], 64 << 20);
  EXPECT_EQ(host["PidsLimit"], 64);
  EXPECT_EQ(host["ReadonlyRootfs"], true);
  EXPECT_EQ(host["NetworkMode"], "none");
  EXPECT_EQ(host["CapDrop"], json::array({"ALL"}));
  EXPECT_EQ(host["SecurityOpt"], json::array({"no-new-privileges"}));

  ContainerGuard failing{*client_, {}};
  EXPECT_EQ(run(failing, {"exit", "7"}).exit_code, 7);
}

TEST_F(DockerEngine, logs_are_demultiplexed_and_capped_per_stream) {
  ContainerGuard guard{*client_, {}};
  ASSERT_EQ(run(guard, {"flood", "100000", "err"}).exit_code, 0);
  auto logs = client_->logs(guard.id, 1 << 20);
  ASSERT_TRUE(logs) << logs.error().message;
  EXPECT_EQ(logs->out, "");
  EXPECT_EQ(logs->err, std::string(100000, 'x'));

  ContainerGuard both{*client_, {}};
  ASSERT_EQ(run(both, {"flood", "300000", "both"}).exit_code, 0);
  auto capped = client_->logs(both.id, 65536);
  ASSERT_TRUE(capped) << capped.error().message;
  EXPECT_EQ(capped->out, std::string(65536, 'x'));
  EXPECT_EQ(capped->err, std::string(65536, 'x'));
  EXPECT_TRUE(capped->out_truncated);
  EXPECT_TRUE(capped->err_truncated);
}

TEST_F(DockerEngine, the_container_has_no_network_and_a_read_only_root) {
  ContainerGuard guard{*client_, {}};
  run(guard, {"write", "/probe-was-here", "/tmp/scratch"});
  auto logs = client_->logs(guard.id, 1 << 20);
  ASSERT_TRUE(logs) << logs.error().message;
  EXPECT_NE(logs->out.find("/probe-was-here: Read-only file system"), std::string::npos) << logs->out;
  EXPECT_NE(logs->out.find("/tmp/scratch: written"), std::string::npos) << logs->out;

  ContainerGuard net{*client_, {}};
  run(net, {"ifaces"});
  auto ifaces = client_->logs(net.id, 1 << 20);
  ASSERT_TRUE(ifaces) << ifaces.error().message;
  EXPECT_EQ(ifaces->out, "lo\n") << "NetworkMode none: loopback only";
}

TEST_F(DockerEngine, a_memory_hog_is_oom_killed_and_inspect_says_so) {
  ContainerGuard guard{*client_, {}};
  const WaitResult done = run(guard, {"alloc", "256"}, 32 << 20);
  auto state = client_->inspect_container(guard.id);
  ASSERT_TRUE(state) << state.error().message;
  EXPECT_TRUE((*state)["State"]["OOMKilled"].get<bool>()) << (*state)["State"].dump();
  EXPECT_EQ(done.exit_code, 137);
  EXPECT_EQ((*state)["State"]["ExitCode"].get<long>(), 137);
}

TEST_F(DockerEngine, kill_stops_a_running_container_and_remove_is_idempotent) {
  auto id = client_->create_container(hardened({"sleep", "60000"}), "", {{kLabel, test_label_value()}});
  ASSERT_TRUE(id) << id.error().message;
  ContainerGuard guard{*client_, *id};
  ASSERT_TRUE(client_->start(*id));
  ASSERT_TRUE(client_->kill(*id));
  auto done = client_->wait(*id, std::chrono::seconds(30));
  ASSERT_TRUE(done) << done.error().message;
  EXPECT_EQ(done->exit_code, 137);
  EXPECT_TRUE(client_->kill(*id)) << "killing a stopped container is not an error";
  ASSERT_TRUE(client_->remove(*id, true));
  EXPECT_TRUE(client_->remove(*id, true)) << "removing a removed container is not an error";
  EXPECT_FALSE(client_->inspect_container(*id));
}

TEST_F(DockerEngine, the_label_filter_finds_only_our_containers) {
  auto ours = client_->create_container(hardened({"exit", "0"}), "", {{kLabel, test_label_value()}});
  ASSERT_TRUE(ours) << ours.error().message;
  ContainerGuard ours_guard{*client_, *ours};
  auto other = client_->create_container(hardened({"exit", "0"}), "", {{kLabel, test_label_value() + "-other"}});
  ASSERT_TRUE(other) << other.error().message;
  ContainerGuard other_guard{*client_, *other};
  auto listed = client_->list_containers(label_filter());
  ASSERT_TRUE(listed) << listed.error().message;
  EXPECT_EQ(*listed, std::vector<std::string>{*ours});
}

TEST_F(DockerEngine, daemon_errors_carry_the_daemons_message) {
  auto missing = client_->inspect_container("ignite-no-such-container");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(missing.error().message.find("No such container"), std::string::npos) << missing.error().message;

  auto bad_image = client_->create_container({{"Image", "ignite-test/none:missing"}}, "", {});
  ASSERT_FALSE(bad_image);
  EXPECT_NE(bad_image.error().message.find("No such image"), std::string::npos) << bad_image.error().message;

  TarWriter tar;
  ASSERT_TRUE(tar.add_file("Dockerfile", "FROM scratch\nCOPY missing /missing\n"));
  auto failed = client_->build_image(tar.finish(), image_tag() + "-broken", {{kLabel, test_label_value()}});
  ASSERT_FALSE(failed);
  EXPECT_NE(failed.error().message.find("missing"), std::string::npos) << failed.error().message;

  EXPECT_FALSE(client_->inspect_container("../../version")) << "a path in an id is refused";
}

TEST_F(DockerEngine, nothing_labelled_is_left_behind) {
  auto listed = client_->list_containers(label_filter());
  ASSERT_TRUE(listed) << listed.error().message;
  EXPECT_TRUE(listed->empty());
}

TEST(DockerEngineClient, a_missing_socket_is_unavailable_with_the_remedy) {
  EngineOptions options;
  options.socket_path = "/run/ignite-test-no-such-docker.sock";
  const Status pinged = EngineClient(options).ping();
  ASSERT_FALSE(pinged);
  EXPECT_EQ(pinged.error().code, ErrorCode::unavailable);
  EXPECT_NE(pinged.error().message.find("is dockerd running?"), std::string::npos) << pinged.error().message;
}

}  // namespace
}  // namespace ignite::docker
