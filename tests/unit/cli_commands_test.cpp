// Which subcommands `ignite` builds (cli/commands.cpp): the one named, else all thirteen.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cli/context.hpp"

namespace ignite::cli {
namespace {

const std::vector<std::string> kAll = {"init", "run", "exec", "preflight", "report", "lock", "env",
                                       "doctor", "serve", "worker", "mcp", "runtimes", "images"};

std::vector<std::string> registered(std::vector<const char*> argv) {
  CLI::App app;
  Context ctx;
  const std::size_t n = register_commands(app, ctx, static_cast<int>(argv.size()), argv.data());
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) names.push_back(sub->get_name());
  EXPECT_EQ(n, names.size());
  return names;
}

TEST(CliCommands, a_named_command_is_the_only_one_built_and_its_table_name_is_its_real_name) {
  for (const std::string& name : kAll) {
    EXPECT_EQ(registered({"ignite", name.c_str(), "--help"}), std::vector<std::string>{name});
  }
}

TEST(CliCommands, no_command_an_option_or_a_misspelling_builds_them_all) {
  EXPECT_EQ(registered({"ignite"}), kAll);
  EXPECT_EQ(registered({"ignite", "--help"}), kAll);
  EXPECT_EQ(registered({"ignite", "--version"}), kAll);
  EXPECT_EQ(registered({"ignite", "exce"}), kAll);
  EXPECT_EQ(registered({"ignite", "EXEC"}), kAll);
}

}  // namespace
}  // namespace ignite::cli
