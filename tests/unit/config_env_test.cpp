// expand_env and process_env: ${VAR} / ${VAR:-default} expansion from an injected environment.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <string>

#include "config/service_config.hpp"

namespace ignite::config {
namespace {

EnvLookup fake(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

std::string expand_ok(std::string_view text, const EnvLookup& env) {
  auto r = expand_env(text, env);
  EXPECT_TRUE(r) << text << ": " << r.error().message;
  return r ? *r : "<error>";
}

std::string expand_error(std::string_view text, const EnvLookup& env) {
  auto r = expand_env(text, env);
  EXPECT_FALSE(r) << text << " expanded to " << *r;
  if (r) return "";
  EXPECT_EQ(r.error().code, ErrorCode::invalid_argument);
  return r.error().message;
}

TEST(ExpandEnv, PlainTextIsUnchanged) {
  const auto env = fake({});
  EXPECT_EQ(expand_ok("", env), "");
  EXPECT_EQ(expand_ok("hello world", env), "hello world");
  // Only "${" is special: lone dollars, "$$" and "$VAR" pass through literally.
  EXPECT_EQ(expand_ok("$5 $$ $HOME $ {x} }", env), "$5 $$ $HOME $ {x} }");
}

TEST(ExpandEnv, SubstitutesVariables) {
  const auto env = fake({{"A", "1"}, {"B_2", "two"}, {"_x", "under"}});
  EXPECT_EQ(expand_ok("${A}", env), "1");
  EXPECT_EQ(expand_ok("pre-${A}-${B_2}-post", env), "pre-1-two-post");
  EXPECT_EQ(expand_ok("${A}${A}${_x}", env), "11under");
  // Substituted text is not expanded again.
  EXPECT_EQ(expand_ok("${X}", fake({{"X", "${A}"}})), "${A}");
}

TEST(ExpandEnv, DefaultsFollowShellColonDash) {
  const auto env = fake({{"SET", "value"}, {"EMPTY", ""}});
  EXPECT_EQ(expand_ok("${SET:-d}", env), "value");
  EXPECT_EQ(expand_ok("${UNSET:-d}", env), "d");
  EXPECT_EQ(expand_ok("${EMPTY:-d}", env), "d");  // set but empty also takes the default
  EXPECT_EQ(expand_ok("${EMPTY}", env), "");      // set but empty without default is fine
  EXPECT_EQ(expand_ok("${UNSET:-}", env), "");
  EXPECT_EQ(expand_ok("${UNSET:-a:-b $x}", env), "a:-b $x");
  EXPECT_EQ(expand_ok("${UNSET:-http://h:80}/p", env), "http://h:80/p");
}

TEST(ExpandEnv, MissingVariableNamesIt) {
  EXPECT_EQ(expand_error("${API_KEY}", fake({})),
            "environment variable API_KEY is not set (use ${API_KEY:-default} for a default)");
  EXPECT_EQ(expand_error("ok ${A} then ${MISSING}", fake({{"A", "1"}})),
            "environment variable MISSING is not set (use ${MISSING:-default} for a default)");
  // A null lookup behaves like an empty environment instead of crashing.
  EXPECT_EQ(expand_error("${X}", EnvLookup{}),
            "environment variable X is not set (use ${X:-default} for a default)");
}

TEST(ExpandEnv, SyntaxErrors) {
  const auto env = fake({{"A", "1"}});
  EXPECT_EQ(expand_error("${A", env), "unterminated '${' in '${A' (missing '}')");
  EXPECT_EQ(expand_error("x ${A} ${", env), "unterminated '${' in 'x ${A} ${' (missing '}')");
  EXPECT_EQ(expand_error("${}", env),
            "invalid variable name '' in '${}' (expected letters, digits and '_')");
  EXPECT_EQ(expand_error("${1A}", env),
            "invalid variable name '1A' in '${1A}' (expected letters, digits and '_')");
  EXPECT_EQ(expand_error("${A B}", env),
            "invalid variable name 'A B' in '${A B}' (expected letters, digits and '_')");
  EXPECT_EQ(expand_error("${A-b}", env),
            "invalid variable name 'A-b' in '${A-b}' (expected letters, digits and '_')");
  EXPECT_EQ(expand_error("${:-d}", env),
            "invalid variable name '' in '${:-d}' (expected letters, digits and '_')");
}

// Finding 6 of issue 9: `env: {X: "${IGNITE_API_KEY}"}` handed the server's key to programs.
TEST(ExpandEnv, ignite_variables_are_never_expanded_even_when_set) {
  const auto env = fake({{"IGNITE_API_KEY", "k-secret"}, {"IGNITE_RUNTIME_STORE", "/s"}, {"A", "1"}});
  const std::string why = ": IGNITE_* variables are Ignite's own and cannot be expanded";
  EXPECT_EQ(expand_error("${IGNITE_API_KEY}", env), "${IGNITE_API_KEY}" + why);
  // Not with a default either: a reserved name never silently becomes the default.
  EXPECT_EQ(expand_error("${IGNITE_API_KEY:-x}", env), "${IGNITE_API_KEY}" + why);
  EXPECT_EQ(expand_error("${A}-${IGNITE_RUNTIME_STORE}", env), "${IGNITE_RUNTIME_STORE}" + why);
  EXPECT_EQ(expand_error("${IGNITE_UNSET_ANYWHERE}", env), "${IGNITE_UNSET_ANYWHERE}" + why);
  // The real environment is refused the same way: the check does not depend on the lookup.
  ASSERT_EQ(::setenv("IGNITE_API_KEY", "k-real", 1), 0);
  auto real = expand_env("${IGNITE_API_KEY}", process_env());
  ::unsetenv("IGNITE_API_KEY");
  ASSERT_FALSE(real);
  EXPECT_EQ(real.error().message.find("k-real"), std::string::npos);
  // Only the exact upper-case prefix is Ignite's; other names are the caller's.
  EXPECT_EQ(expand_ok("${IGNITEX}${ignite_x:-d}", fake({{"IGNITEX", "a"}})), "ad");
}

TEST(ExpandEnv, expansion_is_bounded_by_the_kernel_limit_for_one_variable) {
  const std::string big(kMaxExpandedBytes / 2, 'b');
  const auto env = fake({{"BIG", big}});
  EXPECT_EQ(expand_ok("${BIG}${BIG}", env).size(), kMaxExpandedBytes);
  const std::string too_long = "expands to more than 131072 bytes (the kernel's limit for one "
                               "environment variable)";
  EXPECT_EQ(expand_error("${BIG}${BIG}x", env), too_long);
  // Stops at the limit instead of building the whole string first.
  std::string many;
  for (int i = 0; i < 10000; ++i) many += "${BIG}";
  EXPECT_EQ(expand_error(many, env), too_long);
  EXPECT_EQ(expand_error(std::string(kMaxExpandedBytes + 1, 'l'), env), too_long);
}

TEST(ProcessEnv, ReadsTheRealEnvironment) {
  const std::string name = "CONFIG_TEST_" + std::to_string(::getpid());
  ASSERT_EQ(::setenv(name.c_str(), "from-host", 1), 0);
  const EnvLookup env = process_env();
  EXPECT_EQ(env(name), std::optional<std::string>("from-host"));
  EXPECT_EQ(expand_ok("${" + name + "}", env), "from-host");
  ASSERT_EQ(::unsetenv(name.c_str()), 0);
  EXPECT_EQ(env(name), std::nullopt);
  EXPECT_EQ(env(std::string_view("A\0B", 3)), std::nullopt);
}

}  // namespace
}  // namespace ignite::config
