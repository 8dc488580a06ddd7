// Runtime images against a real dockerd (tests/common/dockerd.hpp): python's image is built
// from the host's runtime without a registry, found again instead of rebuilt, small, and runs
// python as a numeric uid with a read-only root, no network and no init; node's too when it is
// installed. The images stay in the test daemon (a cache for the next run and other suites).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <regex>

#include "../common/dockerd.hpp"
#include "docker/engine_client.hpp"
#include "docker/runtime_image.hpp"
#include "docker/tar_writer.hpp"
#include "runtime/catalog.hpp"

namespace ignite::docker {
namespace {

using nlohmann::json;

constexpr const char* kLabel = "ignite.test";
const std::string& test_label_value() {
  static const std::string value = "docker_image_test-" + std::to_string(::getpid());
  return value;
}

class DockerImage : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto& daemon = testing::docker_daemon();
    if (!daemon.ready) GTEST_SKIP() << "no Docker daemon: " << daemon.why;
    auto made = EngineClient::from_env();
    ASSERT_TRUE(made) << made.error().message;
    client_.emplace(std::move(made).value());
  }

  void TearDown() override {
    if (!client_) return;
    if (auto left = client_->list_containers(std::string(kLabel) + "=" + test_label_value()); left)
      for (const std::string& id : *left) { EXPECT_TRUE(client_->remove(id, true)); }
  }

  std::optional<runtime::Installed> installed(const std::string& name) {
    auto rt = runtime::Catalog(runtime::default_roots()).resolve({name, ""});
    if (!rt) return std::nullopt;
    return *rt;
  }

  // Builds without the daemon's cache, then asks again: the second answer is the same image.
  RuntimeImage build_and_find(const runtime::Installed& rt) {
    const auto start = std::chrono::steady_clock::now();
    auto built = ensure_runtime_image(*client_, rt, IGNITE_DOCKER_INIT, /*rebuild=*/true);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_TRUE(built) << built.error().message;
    if (!built) return {};
    EXPECT_TRUE(built->built);
    std::cout << "[ image    ] " << built->tag << ": " << built->size_bytes / 1'000'000 << " MB, built in "
              << seconds << " s\n";
    for (const auto& line : built->unresolved) std::cout << "[ image    ] unresolved: " << line << "\n";

    const auto again_start = std::chrono::steady_clock::now();
    auto again = ensure_runtime_image(*client_, rt, IGNITE_DOCKER_INIT);
    const double again_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - again_start).count();
    EXPECT_TRUE(again) << again.error().message;
    if (again) {
      EXPECT_FALSE(again->built);
      EXPECT_EQ(again->tag, built->tag);
      EXPECT_EQ(again->id, built->id);
      std::cout << "[ image    ] found again in " << again_seconds << " s\n";
    }
    auto size = image_size(*client_, built->tag);
    EXPECT_TRUE(size) << size.error().message;
    if (size) { EXPECT_EQ(*size, built->size_bytes); }
    return *built;
  }

  // The daemon's own listing of the containers made from an image (any state): id, state, labels.
  std::string containers_using(const std::string& image_id) {
    const std::string filter = R"({"ancestor":[")" + image_id + R"("]})";
    const std::string command = "curl -sf --max-time 5 --unix-socket '" + client_->socket_path() +
                                "' -G --data-urlencode 'all=1' --data-urlencode '" + "filters=" + filter +
                                "' http://docker/containers/json";
    std::string out;
    if (FILE* pipe = ::popen(command.c_str(), "r")) {
      char buffer[4096];
      while (std::size_t n = std::fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
      ::pclose(pipe);
    }
    const json listed = json::parse(out, nullptr, false);
    if (!listed.is_array()) return "(no answer: " + out.substr(0, 200) + ")";
    json brief = json::array();
    for (const json& c : listed)
      brief.push_back({{"id", c.value("Id", "").substr(0, 12)}, {"state", c.value("State", "")},
                       {"status", c.value("Status", "")}, {"labels", c.value("Labels", json::object())}});
    return brief.dump();
  }

  // The backend's shape, minus the init: numeric uid, read-only root, no network.
  std::pair<WaitResult, Logs> run(const std::string& image, std::vector<std::string> cmd,
                                  const std::string& user = "60001:60001") {
    const json config = {{"Image", image},
                         {"Cmd", cmd},
                         {"User", user},
                         {"Env", json::array({"HOME=/tmp", "PYTHONDONTWRITEBYTECODE=1"})},
                         {"HostConfig",
                          {{"NetworkMode", "none"},
                           {"ReadonlyRootfs", true},
                           {"Init", false},
                           {"CapDrop", json::array({"ALL"})},
                           {"SecurityOpt", json::array({"no-new-privileges"})},
                           {"Tmpfs", {{"/tmp", "rw,nosuid,nodev,size=16m,mode=1777"}}}}}};
    auto id = client_->create_container(config, "", {{kLabel, test_label_value()}});
    EXPECT_TRUE(id) << id.error().message;
    if (!id) return {};
    EXPECT_TRUE(client_->start(*id));
    auto waited = client_->wait(*id, std::chrono::seconds(60));
    EXPECT_TRUE(waited) << waited.error().message;
    auto logs = client_->logs(*id, 1 << 20);
    EXPECT_TRUE(logs) << logs.error().message;
    EXPECT_TRUE(client_->remove(*id, true));
    return {waited ? *waited : WaitResult{}, logs ? *logs : Logs{}};
  }

  std::optional<EngineClient> client_;
};

TEST_F(DockerImage, python_image_is_built_once_small_and_runs_python_as_a_numeric_uid) {
  const auto rt = installed("python");
  if (!rt) GTEST_SKIP() << "python is not installed";
  const RuntimeImage image = build_and_find(*rt);
  ASSERT_FALSE(image.tag.empty());
  EXPECT_TRUE(std::regex_match(image.tag, std::regex("ignite-runtime/python:[0-9.]+-[0-9a-f]{12}"))) << image.tag;
  EXPECT_GT(image.size_bytes, 0u);
  EXPECT_LT(image.size_bytes, 150ull << 20);

  const auto [done, logs] = run(image.tag, {"/usr/bin/python3", "-c", "print(6*7)"});
  EXPECT_EQ(done.exit_code, 0) << logs.err;
  EXPECT_EQ(logs.out, "42\n");
  EXPECT_EQ(logs.err, "");

  // The standard library's extension modules find their shared libraries; the skeleton is there.
  const auto [more, more_logs] =
      run(image.tag, {"/usr/bin/python3", "-E", "-s", "-c",
                      "import ssl, sqlite3, hashlib, zlib, ctypes, decimal, lzma, bz2, json, os\n"
                      "print(os.getuid(), os.access('/ignite/init', os.X_OK), os.path.expanduser('~'))\n"
                      "print(sorted(d for d in ('app', 'out', 'node_modules', 'tmp') if os.path.isdir('/' + d)))\n"});
  EXPECT_EQ(more.exit_code, 0) << more_logs.err;
  EXPECT_EQ(more_logs.out, "60001 True /tmp\n['app', 'node_modules', 'out', 'tmp']\n") << more_logs.err;

  // Read-only: not even root (without capabilities, but the files' owner) can change the image.
  const auto [write, write_logs] =
      run(image.tag, {"/usr/bin/python3", "-c", "import os; open(os.__file__, 'a')"}, "0:0");
  EXPECT_NE(write.exit_code, 0);
  EXPECT_NE(write_logs.err.find("Read-only file system"), std::string::npos) << write_logs.err;
}

TEST_F(DockerImage, node_image_runs_node) {
  const auto rt = installed("node");
  if (!rt) GTEST_SKIP() << "node is not installed";
  const RuntimeImage image = build_and_find(*rt);
  ASSERT_FALSE(image.tag.empty());
  const auto [done, logs] = run(image.tag, {rt->sandbox_binary, "-e", "console.log(6*7)"});
  EXPECT_EQ(done.exit_code, 0) << logs.err;
  EXPECT_EQ(logs.out, "42\n");
}

// A context whose reading fails halfway (a file changed under the build) fails the build with
// that error, and the daemon is left with no image of that tag.
TEST_F(DockerImage, a_context_that_fails_midway_builds_nothing) {
  const std::string tag = "ignite-test/broken:" + std::to_string(::getpid());
  // A real beginning (a Dockerfile, then a 1 MB file), and a failure 64 KB into that file.
  const std::string dockerfile = "FROM scratch\nCOPY big /big\n";
  std::string head = *tar_header("Dockerfile", TarType::file, dockerfile.size(), 0644) + dockerfile +
                     std::string(tar_padding(dockerfile.size()), '\0') + *tar_header("big", TarType::file, 1 << 20, 0644);
  std::uint64_t sent = 0;
  const BodySource source{head.size() + (1 << 20) + kTarTrailer,
                          [&](char* into, std::size_t room) -> Result<std::size_t> {
                            if (sent >= head.size() + (64u << 10))
                              return fail(ErrorCode::failed_precondition, "image file /big: changed since it was listed");
                            std::size_t n = std::min<std::size_t>(room, 4096);
                            if (sent < head.size()) {
                              n = std::min<std::size_t>(n, head.size() - sent);
                              std::copy_n(head.data() + sent, n, into);
                            } else {
                              std::fill(into, into + n, 'x');
                            }
                            sent += n;
                            return n;
                          }};
  auto built = client_->build_image(source, tag, {{kLabel, test_label_value()}});
  ASSERT_FALSE(built);
  EXPECT_EQ(built.error().message, "image file /big: changed since it was listed");
  EXPECT_FALSE(client_->inspect_image(tag));
}

// An older image of the same runtime version that lost its tag (the daemon lists it as
// "<none>:<none>") is ours to tidy too: building the current image removes it and the tagged one.
TEST_F(DockerImage, building_removes_older_images_of_the_version_tagged_or_not) {
  const auto rt = installed("python");
  if (!rt) GTEST_SKIP() << "python is not installed";
  const std::string old_tag = "ignite-runtime/python:" + rt->version + "-old" + std::to_string(::getpid());
  const Labels labels = {{std::string(kImageLabel), "runtime"},
                         {std::string(kRuntimeLabel), "python"},
                         {std::string(kRuntimeVersionLabel), rt->version}};
  std::vector<std::string> old_ids;
  for (const std::string content : {"first", "second"}) {  // the second takes the tag from the first
    const std::string dockerfile = "FROM scratch\nCOPY f /f\n";
    const std::string context = *tar_header("Dockerfile", TarType::file, dockerfile.size(), 0644) + dockerfile +
                                std::string(tar_padding(dockerfile.size()), '\0') +
                                *tar_header("f", TarType::file, content.size(), 0644) + content +
                                std::string(tar_padding(content.size()), '\0') + std::string(kTarTrailer, '\0');
    auto built = client_->build_image(context, old_tag, labels);
    ASSERT_TRUE(built) << built.error().message;
    old_ids.push_back(*built);
  }
  ASSERT_NE(old_ids[0], old_ids[1]);
  auto listed = client_->list_images(std::string(kRuntimeLabel) + "=python");
  ASSERT_TRUE(listed) << listed.error().message;
  const auto untagged = std::find_if(listed->begin(), listed->end(),
                                     [&](const ImageSummary& i) { return i.id == old_ids[0]; });
  ASSERT_NE(untagged, listed->end());
  EXPECT_TRUE(untagged->tags.empty()) << untagged->tags.front();

  auto image = ensure_runtime_image(*client_, *rt, IGNITE_DOCKER_INIT, /*rebuild=*/true);
  ASSERT_TRUE(image) << image.error().message;
  for (const std::string& id : old_ids) EXPECT_FALSE(client_->inspect_image(id)) << id << " is still there";
}

TEST_F(DockerImage, list_images_finds_runtime_images_by_label) {
  const auto rt = installed("python");
  if (!rt) GTEST_SKIP() << "python is not installed";
  auto image = ensure_runtime_image(*client_, *rt, IGNITE_DOCKER_INIT);
  ASSERT_TRUE(image) << image.error().message;
  auto listed = client_->list_images(std::string(kImageLabel) + "=runtime");
  ASSERT_TRUE(listed) << listed.error().message;
  bool found = false;
  for (const auto& i : *listed) {
    if (std::find(i.tags.begin(), i.tags.end(), image->tag) == i.tags.end()) continue;
    found = true;
    EXPECT_EQ(i.labels.at(std::string(kRuntimeLabel)), "python");
    EXPECT_EQ(i.labels.at(std::string(kRuntimeVersionLabel)), rt->version);
    EXPECT_EQ(i.size_bytes, image->size_bytes);
  }
  EXPECT_TRUE(found) << image->tag;
  // One image per runtime version: older ones went when this one was built, unless a container
  // still uses one (the daemon refuses, and tidying leaves it) — then the holders are named.
  for (const auto& i : *listed) {
    if (i.id == image->id || !i.labels.count(std::string(kRuntimeLabel)) ||
        i.labels.at(std::string(kRuntimeLabel)) != "python" ||
        i.labels.at(std::string(kRuntimeVersionLabel)) != rt->version)
      continue;
    const std::string holders = containers_using(i.id);
    EXPECT_NE(holders, "[]") << "an older python image no container uses is still there: " << i.id;
    std::cout << "[ image    ] older image " << i.id.substr(7, 12) << " kept, used by " << holders << "\n";
  }
}

}  // namespace
}  // namespace ignite::docker
