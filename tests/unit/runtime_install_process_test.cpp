// run_command: the installer's way of running npm, tar and make (argv only, no shell).
#include <gtest/gtest.h>

#include <chrono>

#include "runtime/installer_process.hpp"

namespace ignite::runtime {
namespace {

using std::chrono::seconds;

TEST(RunCommand, arguments_reach_the_program_verbatim_without_a_shell) {
  const std::string hostile = "$(touch /tmp/ignite-pwned); `id` ; 'x' \"y\" *";
  auto out = run_command({{"printf", "%s", hostile}, {}, {}, seconds(10)});
  ASSERT_TRUE(out.has_value()) << out.error().message;
  EXPECT_TRUE(out->ok());
  EXPECT_EQ(out->out, hostile);
}

TEST(RunCommand, exit_codes_stderr_cwd_and_env_are_reported) {
  auto out = run_command({{"sh", "-c", "pwd; echo \"$IGNITE_T\" >&2; exit 3"}, "/usr", {"IGNITE_T=v"}, seconds(10)});
  ASSERT_TRUE(out.has_value()) << out.error().message;
  EXPECT_EQ(out->exit_code, 3);
  EXPECT_EQ(out->out, "/usr\n");
  EXPECT_EQ(out->err, "v\n");
  const std::string why = describe_failure({{"sh", "-c"}, {}, {}, {}}, *out);
  EXPECT_NE(why.find("exited with 3"), std::string::npos) << why;
  EXPECT_NE(why.find("v"), std::string::npos) << why;
}

TEST(RunCommand, a_missing_program_is_an_error) {
  EXPECT_FALSE(run_command({{"ignite-no-such-program"}, {}, {}, seconds(5)}).has_value());
}

TEST(RunCommand, overrunning_the_timeout_kills_the_whole_group) {
  const auto start = std::chrono::steady_clock::now();
  // The background sleep holds stdout open: only killing the group ends the wait.
  auto out = run_command({{"sh", "-c", "sleep 30 & sleep 30"}, {}, {}, seconds(1)});
  EXPECT_FALSE(out.has_value());
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(10));
}

TEST(RunCommand, leftovers_of_a_finished_program_do_not_hold_it_open) {
  const auto start = std::chrono::steady_clock::now();
  auto out = run_command({{"sh", "-c", "sleep 30 & echo done"}, {}, {}, seconds(20)});
  ASSERT_TRUE(out.has_value()) << out.error().message;
  EXPECT_EQ(out->out, "done\n");
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(10));
}

}  // namespace
}  // namespace ignite::runtime
