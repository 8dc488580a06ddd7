// `ignite` end to end: the README's promises, exit codes and the JSON document of CONTRACT §2/§4.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "cli_helpers.hpp"

namespace ignite::testing {
namespace {

namespace fs = std::filesystem;
const std::string kExample = std::string(IGNITE_SOURCE_DIR) + "/examples/data-processor";

TEST(CliE2E, version_prints_the_version) {
  auto r = run_cli({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.rfind("ignite ", 0), 0u) << r.out;
}

TEST(CliE2E, unknown_subcommand_is_exit_125) {
  auto r = run_cli({"frobnicate"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_NE(r.err.find("ignite:"), std::string::npos);
}

}  // namespace
}  // namespace ignite::testing
