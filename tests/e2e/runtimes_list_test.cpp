// `ignite runtimes`: the list on this machine (after scripts/install-deps) and the install
// command's answers that need no network.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include <nlohmann/json.hpp>

#include "cli_helpers.hpp"

namespace ignite::testing {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

TEST(RuntimesList, after_install_deps_all_six_runtimes_are_listed_with_versions) {
  const CliResult r = run_cli({"runtimes", "list", "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Json doc = Json::parse(r.out);
  std::set<std::string> names;
  for (const Json& rt : doc.at("runtimes")) {
    EXPECT_FALSE(rt.at("version").get<std::string>().empty()) << rt.dump();
    EXPECT_TRUE(rt.at("source") == "store" || rt.at("source") == "system") << rt.dump();
    EXPECT_TRUE(fs::exists(rt.at("path").get<std::string>())) << rt.dump();
    names.insert(rt.at("name").get<std::string>());
  }
  for (const char* want : {"bun", "node", "deno", "quickjs", "python", "go"}) {
    EXPECT_EQ(names.count(want), 1u) << want << " is not installed; run scripts/install-deps\n" << r.out;
  }
}

TEST(RuntimesList, text_form_is_a_table_and_bare_runtimes_lists_too) {
  const CliResult r = run_cli({"runtimes"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("NAME     VERSION      SOURCE  PATH\n", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("\npython   "), std::string::npos) << r.out;
}

TEST(RuntimesList, an_empty_store_leaves_only_the_system_runtimes) {
  const fs::path empty = fs::temp_directory_path() / ("ignite-empty-store-" + std::to_string(::getpid()));
  fs::create_directories(empty);
  const CliResult r = run_cli({"runtimes", "list", "--json"}, {"IGNITE_RUNTIME_STORE=" + empty.string()});
  fs::remove_all(empty);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Json doc = Json::parse(r.out);
  EXPECT_EQ(doc.at("store"), empty.string());
  for (const Json& rt : doc.at("runtimes")) EXPECT_EQ(rt.at("source"), "system") << rt.dump();
}

TEST(RuntimesInstall, an_unknown_runtime_exits_125_listing_the_known_ones) {
  const CliResult r = run_cli({"runtimes", "install", "rubyy"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_NE(r.err.find("unknown runtime 'rubyy'"), std::string::npos) << r.err;
  for (const char* known : {"bun", "node", "deno", "quickjs", "python", "go"}) {
    EXPECT_NE(r.err.find(known), std::string::npos) << known << " missing from: " << r.err;
  }
  const CliResult typo = run_cli({"runtimes", "install", "qickjs"});
  EXPECT_EQ(typo.exit_code, 125);
  EXPECT_NE(typo.err.find("did you mean 'quickjs'?"), std::string::npos) << typo.err;
  EXPECT_NE(typo.err.find("known runtimes: bun, deno, go, node, python, quickjs"), std::string::npos) << typo.err;
}

TEST(RuntimesInstall, a_malformed_version_exits_125_before_anything_runs) {
  const CliResult r = run_cli({"runtimes", "install", "deno", "node@../../x"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_TRUE(r.out.empty()) << r.out;  // deno was not attempted either
  EXPECT_NE(r.err.find("invalid runtime version"), std::string::npos) << r.err;
}

TEST(RuntimesInstall, system_runtimes_are_reported_not_installed) {
  const CliResult r = run_cli({"runtimes", "install", "python"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("provided by the system (/usr/bin/python3)"), std::string::npos) << r.out;
  const CliResult old = run_cli({"runtimes", "install", "python@2.7"});
  EXPECT_EQ(old.exit_code, 125);
  EXPECT_NE(old.err.find("apt-get install python3"), std::string::npos) << old.err;
}

}  // namespace
}  // namespace ignite::testing
