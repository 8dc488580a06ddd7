// `ignite images build` and `ignite images list` as a user runs them, against the tests' own
// dockerd (tests/common/dockerd.hpp points DOCKER_HOST at it; the CLI inherits it), and
// `ignite images build --microvm` (the microvm backend's runtime disks, no daemon).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "../common/dockerd.hpp"
#include "../common/temp_tree.hpp"
#include "cli_helpers.hpp"

namespace ignite::testing {
namespace {

using nlohmann::json;

bool python_installed() {
  const CliResult r = run_cli({"runtimes", "list", "--json"});
  const json doc = json::parse(r.out, nullptr, false);
  if (!doc.is_object() || !doc.contains("runtimes")) return false;
  for (const auto& rt : doc["runtimes"])
    if (rt.value("name", "") == "python") return true;
  return false;
}

TEST(ImagesCli, build_python_reports_its_tag_and_size_and_list_shows_it) {
  const auto& daemon = docker_daemon();
  if (!daemon.ready) GTEST_SKIP() << "no Docker daemon: " << daemon.why;
  if (!python_installed()) GTEST_SKIP() << "python is not installed";

  const CliResult built = run_cli({"images", "build", "python", "--json"});
  ASSERT_EQ(built.exit_code, 0) << built.err;
  const json doc = json::parse(built.out, nullptr, false);
  ASSERT_TRUE(doc.is_object()) << built.out;
  ASSERT_EQ(doc["images"].size(), 1u) << built.out;
  const json& image = doc["images"][0];
  EXPECT_EQ(image["runtime"], "python");
  const std::string tag = image["tag"].get<std::string>();
  EXPECT_EQ(tag.rfind("ignite-runtime/python:", 0), 0u) << tag;
  EXPECT_GT(image["sizeBytes"].get<std::uint64_t>(), 0u);
  EXPECT_TRUE(image["built"].is_boolean());

  // Asked again, it is there already; the text form says so with its size.
  const CliResult again = run_cli({"images", "build", "python"});
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find(tag + " ("), std::string::npos) << again.out;
  EXPECT_NE(again.out.find("MB, present)"), std::string::npos) << again.out;

  const CliResult listed = run_cli({"images", "list"});
  ASSERT_EQ(listed.exit_code, 0) << listed.err;
  EXPECT_NE(listed.out.find(tag), std::string::npos) << listed.out;
  const CliResult listed_json = run_cli({"images", "list", "--json"});
  ASSERT_EQ(listed_json.exit_code, 0) << listed_json.err;
  const json listed_doc = json::parse(listed_json.out, nullptr, false);
  ASSERT_TRUE(listed_doc.is_object()) << listed_json.out;
  bool found = false;
  for (const auto& i : listed_doc["images"])
    for (const auto& t : i["tags"]) found |= t == tag;
  EXPECT_TRUE(found) << listed_json.out;
}

TEST(ImagesCli, a_runtime_that_is_not_installed_is_named_with_how_to_install_it) {
  const CliResult r = run_cli({"images", "build", "node@1"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_NE(r.err.find("runtime node@1 is not installed"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("ignite runtimes install node@1"), std::string::npos) << r.err;
}

TEST(ImagesCli, no_daemon_is_an_error_that_names_the_remedy) {
  const CliResult r = run_cli({"images", "list"}, {"DOCKER_HOST=unix:///nonexistent/docker.sock"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_NE(r.err.find("does not answer"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("start it with `dockerd` or set DOCKER_HOST"), std::string::npos) << r.err;
  const CliResult build = run_cli({"images", "build", "python"}, {"DOCKER_HOST=unix:///nonexistent/docker.sock"});
  EXPECT_EQ(build.exit_code, 125);
}

// The microvm backend's runtime disks, in a cache of the test's own ($IGNITE_GUEST_CACHE).
TEST(ImagesCli, microvm_disks_are_built_once_found_again_and_rebuilt_on_request) {
  if (!python_installed()) GTEST_SKIP() << "python is not installed";
  if (std::system("command -v sqfstar >/dev/null 2>&1") != 0) GTEST_SKIP() << "sqfstar is not installed (squashfs-tools)";
  const TempTree cache("ignite-disks-");
  const std::vector<std::string> env = {"IGNITE_GUEST_CACHE=" + cache.path().string()};
  const auto sqfs_files = [&] {
    std::vector<std::filesystem::path> out;
    for (const auto& e : std::filesystem::directory_iterator(cache.path() / "runtimes"))
      if (e.path().extension() == ".sqfs") out.push_back(e.path());
    return out;
  };
  // A build that was killed left its temporary file: the next one clears it.
  cache.write("runtimes/.building-dead.sqfs", "half");
  std::filesystem::permissions(cache.path() / "runtimes", std::filesystem::perms::owner_all,
                               std::filesystem::perm_options::replace);

  const CliResult built = run_cli({"images", "build", "--microvm", "python", "--json"}, env);
  ASSERT_EQ(built.exit_code, 0) << built.err;
  EXPECT_NE(built.err.find("no guest kernel yet"), std::string::npos) << built.err;
  const json doc = json::parse(built.out, nullptr, false);
  ASSERT_TRUE(doc.is_object()) << built.out;
  ASSERT_EQ(doc["disks"].size(), 1u) << built.out;
  const json& disk = doc["disks"][0];
  EXPECT_EQ(disk["runtime"], "python");
  EXPECT_TRUE(disk["built"].get<bool>());
  const std::filesystem::path path = disk["path"].get<std::string>();
  EXPECT_EQ(path.parent_path(), cache.path() / "runtimes");
  EXPECT_EQ(std::filesystem::file_size(path), disk["sizeBytes"].get<std::uint64_t>());
  EXPECT_EQ(sqfs_files(), std::vector<std::filesystem::path>{path});
  EXPECT_FALSE(std::filesystem::exists(cache.path() / "runtimes/.building-dead.sqfs"));

  // What is on it: python at its place in the sandbox, no build context, nothing else of the host.
  const CliResult listed = run_program({"/usr/bin/unsquashfs", "-l", path.string()});
  if (listed.exit_code == 0) {
    EXPECT_NE(listed.out.find("squashfs-root/rootfs/usr/bin/python3\n"), std::string::npos);
    EXPECT_NE(listed.out.find("squashfs-root/rootfs/usr/lib/python3.11/json/__init__.py\n"), std::string::npos);
    EXPECT_EQ(listed.out.find("Dockerfile"), std::string::npos);
    EXPECT_EQ(listed.out.find("shadow"), std::string::npos);
    EXPECT_EQ(listed.out.find("/root/"), std::string::npos);
  }

  const CliResult again = run_cli({"images", "build", "--microvm", "python"}, env);
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.out.find(path.string() + " ("), std::string::npos) << again.out;
  EXPECT_NE(again.out.find("MB, present)"), std::string::npos) << again.out;

  const CliResult rebuilt = run_cli({"images", "build", "--microvm", "python", "--rebuild", "--json"}, env);
  ASSERT_EQ(rebuilt.exit_code, 0) << rebuilt.err;
  const json redoc = json::parse(rebuilt.out, nullptr, false);
  ASSERT_TRUE(redoc.is_object()) << rebuilt.out;
  EXPECT_TRUE(redoc["disks"][0]["built"].get<bool>());
  EXPECT_EQ(sqfs_files(), std::vector<std::filesystem::path>{path});
}

TEST(ImagesCli, a_microvm_disk_cache_others_can_write_is_refused) {
  if (!python_installed()) GTEST_SKIP() << "python is not installed";
  const TempTree cache("ignite-disks-");
  std::filesystem::create_directories(cache.path() / "runtimes");
  std::filesystem::permissions(cache.path() / "runtimes", std::filesystem::perms::all);  // 0777, not sticky
  const CliResult r =
      run_cli({"images", "build", "--microvm", "python"}, {"IGNITE_GUEST_CACHE=" + cache.path().string()});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_NE(r.err.find("runtimes"), std::string::npos) << r.err;
  EXPECT_TRUE(std::filesystem::is_empty(cache.path() / "runtimes"));
}

}  // namespace
}  // namespace ignite::testing
