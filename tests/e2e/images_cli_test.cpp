// `ignite images build` and `ignite images list` as a user runs them, against the tests' own
// dockerd (tests/common/dockerd.hpp points DOCKER_HOST at it; the CLI inherits it).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "../common/dockerd.hpp"
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

TEST(ImagesCli, microvm_images_are_refused_as_not_yet_supported) {
  const CliResult r = run_cli({"images", "build", "--microvm"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_NE(r.err.find("not supported yet"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace ignite::testing
