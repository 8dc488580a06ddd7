// service.yaml parsing and validation (CONTRACT §1): defaults, every key, and every error naming
// file, line and key.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "config/service_config.hpp"
#include "../common/temp_tree.hpp"

namespace ignite::config {
namespace {

namespace fs = std::filesystem;

// gmock is not linked into the unit tests, so a substring check by hand.
::testing::AssertionResult contains(const std::string& haystack, const std::string& needle) {
  if (haystack.find(needle) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure()
         << "\"" << haystack << "\" does not contain \"" << needle << "\"";
}

class ServiceConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(dir_);
    write("index.ts", "console.log('hi')\n");
  }
  void write(const fs::path& rel, std::string_view content, const fs::path& base = {}) {
    const fs::path p = (base.empty() ? dir_ : base) / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << content;
  }

  EnvLookup env() const {
    return [vars = vars_](std::string_view name) -> std::optional<std::string> {
      auto it = vars.find(std::string(name));
      if (it == vars.end()) return std::nullopt;
      return it->second;
    };
  }

  Result<ServiceConfig> parse(std::string_view yaml) {
    return parse_service(yaml, file(), dir_, env());
  }

  // Parses and expects failure; returns the message so tests can check file, line and key.
  std::string error_of(std::string_view yaml) {
    Result<ServiceConfig> r = parse(yaml);
    EXPECT_FALSE(r.has_value()) << "expected an error for:\n" << yaml;
    if (r.has_value()) return "";
    EXPECT_EQ(r.error().code, ErrorCode::invalid_argument) << r.error().message;
    return r.error().message;
  }

  std::string file() const { return (dir_ / "service.yaml").string(); }
  // "<file>:<line>: " as every located error starts.
  std::string at(int line) const { return file() + ":" + std::to_string(line) + ": "; }

  testing::TempTree tree_{"ignite-config-"};
  fs::path root_ = tree_.path();
  fs::path dir_ = root_ / "svc";
  std::map<std::string, std::string> vars_;
};

constexpr std::string_view kMinimal = "service:\n  name: hello\n  entry: index.ts\n";

// ---- defaults and every key ----------------------------------------------------------------

TEST_F(ServiceConfigTest, MinimalFileGetsDefaults) {
  auto r = parse(kMinimal);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->dir, fs::canonical(dir_));
  EXPECT_EQ(r->name, "hello");
  EXPECT_EQ(r->runtime, (RuntimeRef{"bun", ""}));
  EXPECT_EQ(r->entry, "index.ts");
  EXPECT_EQ(r->entry_path, fs::canonical(dir_ / "index.ts"));
  EXPECT_EQ(r->memory_mb, 128u);
  EXPECT_EQ(r->timeout_ms, 30000u);
  EXPECT_DOUBLE_EQ(r->cpu_limit, 1.0);
  EXPECT_FALSE(r->network);
  EXPECT_TRUE(r->env.empty());
  EXPECT_TRUE(r->dependencies.empty());
  EXPECT_FALSE(r->dependencies_declared);
  EXPECT_EQ(r->preflight, PreflightThresholds{});
  EXPECT_FALSE(r->preflight.memory.base_mb.has_value());
}

TEST_F(ServiceConfigTest, EveryKeyIsRead) {
  write("src/main.py", "print(1)\n");
  vars_["API_KEY"] = "secret";
  auto r = parse(R"(# comment
service:
  name: data-processor
  runtime: python@3.11
  entry: src/main.py
  memoryMb: 256
  timeoutMs: 5000
  cpuLimit: 0.5
  network: true
  env:
    API_KEY: "${API_KEY}"
    DEBUG: "true"
    LEVEL: 3
    MODE: ${MODE:-fast}
  dependencies: [lodash, "@scope/pkg"]
preflight:
  memory: { baseMb: 50, perDependencyMb: 2.5, warnRatio: 1.5, failRatio: 0.9 }
)");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->name, "data-processor");
  EXPECT_EQ(r->runtime, (RuntimeRef{"python", "3.11"}));
  EXPECT_EQ(r->entry, "src/main.py");
  EXPECT_EQ(r->entry_path, fs::canonical(dir_ / "src/main.py"));
  EXPECT_EQ(r->memory_mb, 256u);
  EXPECT_EQ(r->timeout_ms, 5000u);
  EXPECT_DOUBLE_EQ(r->cpu_limit, 0.5);
  EXPECT_TRUE(r->network);
  using Env = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(r->env,
            (Env{{"API_KEY", "secret"}, {"DEBUG", "true"}, {"LEVEL", "3"}, {"MODE", "fast"}}));
  EXPECT_EQ(r->dependencies, (std::vector<std::string>{"lodash", "@scope/pkg"}));
  EXPECT_TRUE(r->dependencies_declared);
  EXPECT_EQ(r->preflight.memory.base_mb, 50.0);
  EXPECT_DOUBLE_EQ(r->preflight.memory.per_dependency_mb, 2.5);
  EXPECT_DOUBLE_EQ(r->preflight.memory.warn_ratio, 1.5);
  EXPECT_DOUBLE_EQ(r->preflight.memory.fail_ratio, 0.9);
}

TEST_F(ServiceConfigTest, RangeBoundariesAreInclusive) {
  auto lo = parse(
      "service:\n  name: a\n  entry: index.ts\n  memoryMb: 16\n  timeoutMs: 100\n"
      "  cpuLimit: 64\n  network: false\n");
  ASSERT_TRUE(lo) << lo.error().message;
  EXPECT_EQ(lo->memory_mb, 16u);
  EXPECT_EQ(lo->timeout_ms, 100u);
  EXPECT_DOUBLE_EQ(lo->cpu_limit, 64.0);
  auto hi = parse(
      "service:\n  name: a\n  entry: index.ts\n  memoryMb: 65536\n"
      "  timeoutMs: 3600000\n  cpuLimit: 2\n");
  ASSERT_TRUE(hi) << hi.error().message;
  EXPECT_EQ(hi->memory_mb, 65536u);
  EXPECT_EQ(hi->timeout_ms, 3600000u);
}

TEST_F(ServiceConfigTest, RuntimeVersionPinsAreParsed) {
  for (const auto& [text, name, version] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"node@20", "node", "20"},
           {"bun@1.3", "bun", "1.3"},
           {"python@3.11", "python", "3.11"},
           {"deno", "deno", ""},
           {"quickjs", "quickjs", ""},
           {"go@1.22.1", "go", "1.22.1"}}) {
    auto r = parse("service:\n  name: a\n  runtime: " + text + "\n  entry: index.ts\n");
    ASSERT_TRUE(r) << text << ": " << r.error().message;
    EXPECT_EQ(r->runtime.name, name);
    EXPECT_EQ(r->runtime.version, version);
    EXPECT_EQ(r->runtime.to_string(), text);
  }
}

// ---- unknown keys, types, ranges -------------------------------------------------------------

TEST_F(ServiceConfigTest, a_profile_is_a_plain_lowercase_name) {
  auto r = parse("service:\n  name: a\n  entry: index.ts\n  profile: datascience\n");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->profile, "datascience");
  EXPECT_EQ(error_of("service:\n  name: a\n  entry: index.ts\n  profile: ../etc\n"),
            at(4) + "service.profile: '../etc' is not a profile name (lowercase letters, digits and '-')");
  EXPECT_EQ(error_of("service:\n  name: a\n  entry: index.ts\n  profle: datascience\n"),
            at(4) + "service.profle: unknown key (did you mean 'profile'?)");
}

TEST_F(ServiceConfigTest, UnknownKeySuggestsNearest) {
  EXPECT_EQ(error_of("service:\n  name: a\n  entry: index.ts\n  memroyMb: 64\n"),
            at(4) + "service.memroyMb: unknown key (did you mean 'memoryMb'?)");
  EXPECT_EQ(error_of("service:\n  name: a\n  entry: index.ts\n  TimeoutMS: 64\n"),
            at(4) + "service.TimeoutMS: unknown key (did you mean 'timeoutMs'?)");
  EXPECT_EQ(error_of("servce:\n  name: a\n"),
            at(1) + "servce: unknown key (did you mean 'service'?)");
}

TEST_F(ServiceConfigTest, UnknownKeyWithoutNearMatchListsValidKeys) {
  std::string msg = error_of("service:\n  name: a\n  entry: index.ts\n  zzzzzzzz: 1\n");
  EXPECT_TRUE(contains(msg, at(4) + "service.zzzzzzzz: unknown key (expected one of: name,"));
  EXPECT_TRUE(contains(msg, "memoryMb"));
}

TEST_F(ServiceConfigTest, UnknownNestedPreflightKey) {
  EXPECT_EQ(error_of(std::string(kMinimal) + "preflight:\n  memory:\n    warnRation: 2\n"),
            at(6) + "preflight.memory.warnRation: unknown key (did you mean 'warnRatio'?)");
  EXPECT_TRUE(contains(error_of(std::string(kMinimal) + "preflight:\n  cpu: {}\n"),
                       at(5) + "preflight.cpu: unknown key"));
}

TEST_F(ServiceConfigTest, WrongTypesSayExpectedAndFound) {
  EXPECT_EQ(error_of("service:\n  name: a\n  entry: index.ts\n  memoryMb: abc\n"),
            at(4) + "service.memoryMb: expected an integer, got 'abc'");
  EXPECT_EQ(error_of("service:\n  name: a\n  entry: index.ts\n  memoryMb: 1.5\n"),
            at(4) + "service.memoryMb: expected an integer, got '1.5'");
  EXPECT_EQ(error_of("service:\n  name: a\n  entry: index.ts\n  memoryMb: \"128\"\n"),
            at(4) + "service.memoryMb: expected an integer, got the quoted string '128'");
  EXPECT_EQ(error_of("service:\n  name: a\n  entry: index.ts\n  memoryMb: \"1\\t\\x01\"\n"),
            at(4) + "service.memoryMb: expected an integer, got the quoted string '1\\t\\x01'");
  EXPECT_EQ(error_of("service:\n  name: a\n  entry: index.ts\n  memoryMb: 0x10\n"),
            at(4) + "service.memoryMb: expected an integer, got '0x10'");
  EXPECT_EQ(error_of("service:\n  name: a\n  entry: index.ts\n  memoryMb: " + std::string(50, '9') +
                     "x\n"),
            at(4) + "service.memoryMb: expected an integer, got '" + std::string(40, '9') + "...'");
  EXPECT_EQ(error_of("service:\n  name: a\n  entry: index.ts\n  timeoutMs: [1]\n"),
            at(4) + "service.timeoutMs: expected an integer, got a list");
  EXPECT_EQ(error_of("service:\n  name: a\n  entry: index.ts\n  timeoutMs:\n"),
            at(4) + "service.timeoutMs: expected an integer, got nothing");
  EXPECT_EQ(error_of("service:\n  name: a\n  entry: index.ts\n  cpuLimit: lots\n"),
            at(4) + "service.cpuLimit: expected a number, got 'lots'");
  EXPECT_EQ(error_of("service:\n  name: a\n  entry: index.ts\n  cpuLimit: .nan\n"),
            at(4) + "service.cpuLimit: expected a number, got '.nan'");
  EXPECT_EQ(error_of("service:\n  name: a\n  entry: index.ts\n  network: yes\n"),
            at(4) + "service.network: expected true or false, got 'yes'");
  EXPECT_EQ(error_of("service:\n  name: {a: 1}\n  entry: index.ts\n"),
            at(2) + "service.name: expected a string, got a map");
  EXPECT_EQ(error_of("service:\n  name: a\n  entry: index.ts\n  env: [A]\n"),
            at(4) + "service.env: expected a map, got a list");
  EXPECT_EQ(error_of("service:\n  name: a\n  entry: index.ts\n  dependencies: lodash\n"),
            at(4) + "service.dependencies: expected a list, got 'lodash'");
  EXPECT_EQ(error_of("service:\n  name: a\n  entry: index.ts\n  dependencies:\n    - ok\n"
                     "    - {x: 1}\n"),
            at(6) + "service.dependencies[1]: expected a string, got a map");
  EXPECT_EQ(error_of("service: hello\n"), at(1) + "service: expected a map, got 'hello'");
  EXPECT_EQ(error_of("- a\n- b\n"), at(1) + "expected a map with a 'service' key, got a list");
}

TEST_F(ServiceConfigTest, OutOfRangeValues) {
  auto with = [&](std::string_view line) {
    return error_of("service:\n  name: a\n  entry: index.ts\n  " + std::string(line) + "\n");
  };
  EXPECT_EQ(with("memoryMb: 8"), at(4) + "service.memoryMb: must be between 16 and 65536, got 8");
  EXPECT_EQ(with("memoryMb: 65537"),
            at(4) + "service.memoryMb: must be between 16 and 65536, got 65537");
  EXPECT_EQ(with("memoryMb: -5"), at(4) + "service.memoryMb: must be between 16 and 65536, got -5");
  EXPECT_TRUE(contains(with("memoryMb: 99999999999999999999999"),
                       at(4) + "service.memoryMb: must be between 16 and 65536"));
  EXPECT_EQ(with("timeoutMs: 99"),
            at(4) + "service.timeoutMs: must be between 100 and 3600000, got 99");
  EXPECT_EQ(with("timeoutMs: 3600001"),
            at(4) + "service.timeoutMs: must be between 100 and 3600000, got 3600001");
  const std::string cpu_range =
      "service.cpuLimit: must be between 0.01 and 64 (the kernel's smallest CPU quota is 1 ms per "
      "100 ms), got ";
  EXPECT_EQ(with("cpuLimit: 0"), at(4) + cpu_range + "0");
  EXPECT_EQ(with("cpuLimit: -1"), at(4) + cpu_range + "-1");
  EXPECT_EQ(with("cpuLimit: 64.5"), at(4) + cpu_range + "64.5");
}

// Finding 25 of issue 9: 0.001 passed validation and failed late, writing the cgroup (EINVAL).
TEST_F(ServiceConfigTest, cpu_limits_the_kernel_refuses_are_config_errors) {
  auto with = [&](std::string_view value) {
    return parse("service:\n  name: a\n  entry: index.ts\n  cpuLimit: " + std::string(value) +
                 "\n");
  };
  for (const char* bad : {"0.001", "0.0099", "1e-9", "0.000004"}) {
    auto r = with(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().message,
              at(4) + "service.cpuLimit: must be between 0.01 and 64 (the kernel's smallest CPU "
                      "quota is 1 ms per 100 ms), got " + bad);
  }
  auto smallest = with("0.01");
  ASSERT_TRUE(smallest) << smallest.error().message;
  EXPECT_DOUBLE_EQ(smallest->cpu_limit, 0.01);
}

TEST_F(ServiceConfigTest, DuplicateKeyIsAnError) {
  EXPECT_EQ(error_of("service:\n  name: a\n  entry: index.ts\n  name: b\n"),
            at(4) + "service.name: duplicate key (first defined on line 2)");
}

// ---- required keys and the name --------------------------------------------------------------

TEST_F(ServiceConfigTest, MissingRequiredKeysPointAtParent) {
  EXPECT_EQ(error_of("# header\nservice:\n  entry: index.ts\n"),
            at(2) + "service.name: missing required key");
  EXPECT_EQ(error_of("\n\nservice:\n  name: a\n"), at(3) + "service.entry: missing required key");
  EXPECT_EQ(error_of("preflight:\n  memory: {}\n"), at(1) + "service: missing required key");
  EXPECT_TRUE(contains(error_of("service:\n"), at(1) + "service: expected a map, got nothing"));
}

TEST_F(ServiceConfigTest, InvalidServiceNames) {
  for (const std::string& name :
       std::vector<std::string>{"MyService", "-lead", "trail-", "has_underscore", "dot.ted", "\"\"",
                                std::string(64, 'a')}) {
    std::string msg = error_of("service:\n  name: " + name + "\n  entry: index.ts\n");
    EXPECT_TRUE(contains(msg, at(2) + "service.name: ")) << name;
    EXPECT_TRUE(contains(msg, "is not a valid service name")) << name;
  }
  auto ok63 = parse("service:\n  name: " + std::string(63, 'a') + "\n  entry: index.ts\n");
  EXPECT_TRUE(ok63) << ok63.error().message;
}

TEST_F(ServiceConfigTest, BadRuntimes) {
  auto with = [&](std::string_view rt) {
    return error_of("service:\n  name: a\n  entry: index.ts\n  runtime: " + std::string(rt) + "\n");
  };
  EXPECT_EQ(with("nodejs"),
            at(4) + "service.runtime: unknown runtime 'nodejs' (did you mean 'node'?)");
  EXPECT_EQ(with("Python"),
            at(4) + "service.runtime: unknown runtime 'Python' (did you mean 'python'?)");
  EXPECT_EQ(with("ruby"), at(4) +
                              "service.runtime: unknown runtime 'ruby' (expected one of: bun, "
                              "node, deno, quickjs, python, go)");
  for (std::string_view bad :
       {"node@", "node@abc", "node@1..2", "node@.1", "node@1.", "node@v20", "node@20@1"}) {
    EXPECT_TRUE(contains(with(bad), at(4) + "service.runtime: invalid runtime version")) << bad;
  }
}

// ---- entry -----------------------------------------------------------------------------------

TEST_F(ServiceConfigTest, EntryMustStayInsideTheDirectory) {
  write("x", "outside\n", root_);
  auto with = [&](std::string_view entry) {
    return error_of("service:\n  name: a\n  entry: " + std::string(entry) + "\n");
  };
  EXPECT_EQ(with("../x"), at(3) + "service.entry: must not contain '..', got '../x'");
  EXPECT_EQ(with("sub/../../x"), at(3) + "service.entry: must not contain '..', got 'sub/../../x'");
  EXPECT_EQ(with("/etc/passwd"), at(3) +
                                     "service.entry: must be a relative path inside the "
                                     "service directory, got '/etc/passwd'");
  EXPECT_EQ(with((root_ / "x").string()),
            at(3) + "service.entry: must be a relative path inside the service directory, got '" +
                (root_ / "x").string() + "'");
  EXPECT_EQ(with("\"a\\0b\""), at(3) + "service.entry: must not contain a NUL byte");
  EXPECT_EQ(with("\"\""), at(3) + "service.entry: must not be empty");
}

TEST_F(ServiceConfigTest, EntrySymlinkEscapingTheDirectoryIsRejected) {
  write("secret.js", "outside\n", root_);
  fs::create_symlink(root_ / "secret.js", dir_ / "link.js");
  EXPECT_EQ(error_of("service:\n  name: a\n  entry: link.js\n"),
            at(3) +
                "service.entry: 'link.js' resolves outside the service directory (symlink "
                "escape)");
  // Through a symlinked directory, too.
  fs::create_symlink(root_, dir_ / "up");
  EXPECT_TRUE(contains(error_of("service:\n  name: a\n  entry: up/secret.js\n"),
                       at(3) + "service.entry: 'up/secret.js' resolves outside"));
  // A sibling directory sharing the prefix is still outside ("/svc" vs "/svc2").
  write("evil.js", "x\n", root_ / "svc2");
  fs::create_symlink(root_ / "svc2" / "evil.js", dir_ / "prefix.js");
  EXPECT_TRUE(contains(error_of("service:\n  name: a\n  entry: prefix.js\n"),
                       "resolves outside the service directory"));
  // A dangling link aiming outside is an escape, not just a missing file.
  fs::create_symlink(root_ / "nope.js", dir_ / "dangling.js");
  EXPECT_EQ(error_of("service:\n  name: a\n  entry: dangling.js\n"),
            at(3) + "service.entry: 'dangling.js' resolves outside the service directory");
}

TEST_F(ServiceConfigTest, EntrySymlinkInsideTheDirectoryIsFollowed) {
  write("dist/app.js", "x\n");
  fs::create_symlink("dist/app.js", dir_ / "main.js");
  auto r = parse("service:\n  name: a\n  entry: main.js\n");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->entry, "main.js");
  EXPECT_EQ(r->entry_path, fs::canonical(dir_ / "dist/app.js"));
}

TEST_F(ServiceConfigTest, EntryMissingOrNotAFile) {
  EXPECT_EQ(
      error_of("service:\n  name: a\n  entry: nope.ts\n"),
      at(3) + "service.entry: file 'nope.ts' does not exist in " + fs::canonical(dir_).string());
  EXPECT_TRUE(contains(error_of("service:\n  name: a\n  entry: index.ts/x\n"),
                       at(3) + "service.entry: file 'index.ts/x' does not exist"));
  fs::create_directories(dir_ / "lib");
  EXPECT_EQ(error_of("service:\n  name: a\n  entry: lib\n"),
            at(3) + "service.entry: 'lib' is not a regular file");
  EXPECT_EQ(error_of("service:\n  name: a\n  entry: .\n"),
            at(3) + "service.entry: '.' is not a regular file");
  fs::create_symlink("missing.js", dir_ / "broken.js");
  EXPECT_EQ(error_of("service:\n  name: a\n  entry: broken.js\n"),
            at(3) + "service.entry: 'broken.js' is a broken symlink");
}

TEST_F(ServiceConfigTest, DirectoryIsCanonicalized) {
  fs::create_symlink(dir_, root_ / "alias");
  auto r = parse_service(kMinimal, root_ / "alias" / "service.yaml", root_ / "alias" / ".", env());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->dir, fs::canonical(dir_));
  EXPECT_EQ(r->entry_path, fs::canonical(dir_) / "index.ts");
}

TEST_F(ServiceConfigTest, MissingDirectoryIsAnError) {
  auto r = parse_service(kMinimal, root_ / "nope" / "service.yaml", root_ / "nope", env());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::invalid_argument);
  EXPECT_TRUE(contains(r.error().message, (root_ / "nope").string()));
}

// ---- env -------------------------------------------------------------------------------------

TEST_F(ServiceConfigTest, EnvExpansionWithDefaultsAndEmptyValues) {
  vars_["HOST"] = "db.local";
  vars_["EMPTY"] = "";
  auto r = parse(std::string(kMinimal) +
                 "  env:\n    URL: \"postgres://${HOST}:${PORT:-5432}/x\"\n"
                 "    E1: \"${EMPTY}\"\n    E2: \"${EMPTY:-fallback}\"\n    PRICE: \"$5 and $$\"\n"
                 "    BLANK: \"\"\n");
  ASSERT_TRUE(r) << r.error().message;
  using Env = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(r->env, (Env{{"URL", "postgres://db.local:5432/x"},
                         {"E1", ""},
                         {"E2", "fallback"},
                         {"PRICE", "$5 and $$"},
                         {"BLANK", ""}}));
}

TEST_F(ServiceConfigTest, MissingEnvVarNamesTheVariable) {
  EXPECT_EQ(error_of(std::string(kMinimal) + "  env:\n    DEBUG: x\n    API_KEY: \"${API_KEY}\"\n"),
            at(6) +
                "service.env.API_KEY: environment variable API_KEY is not set (use "
                "${API_KEY:-default} for a default)");
  EXPECT_TRUE(contains(error_of(std::string(kMinimal) + "  env:\n    A: \"${OOPS\"\n"),
                       at(5) + "service.env.A: unterminated '${'"));
}

TEST_F(ServiceConfigTest, BadEnvKeysAndValues) {
  auto with = [&](std::string_view body) {
    return error_of(std::string(kMinimal) + "  env:\n    " + std::string(body) + "\n");
  };
  EXPECT_TRUE(contains(with("1BAD: x"), at(5) + "service.env.1BAD: invalid variable name"));
  EXPECT_TRUE(contains(with("BAD-NAME: x"), at(5) + "service.env.BAD-NAME: invalid variable name"));
  // A dot inside a key is part of the name, not a path separator.
  EXPECT_TRUE(contains(with("A.B: x"), at(5) + "service.env.A.B: invalid variable name"));
  EXPECT_TRUE(contains(with("\"A=B\": x"), at(5) + "service.env.A=B: invalid variable name"));
  EXPECT_TRUE(contains(with("IGNITE_INPUT: x"), at(5) + "service.env.IGNITE_INPUT: IGNITE_INPUT is "
                                                        "reserved"));
  EXPECT_TRUE(contains(with("IGNITE_INPUT_FILE: /etc/passwd"),
                       at(5) + "service.env.IGNITE_INPUT_FILE: IGNITE_INPUT_FILE is reserved"));
  EXPECT_EQ(with("EMPTY:"), at(5) +
                                "service.env.EMPTY: expected a string, got nothing (write \"\" "
                                "for an empty value)");
  EXPECT_EQ(with("NESTED: {a: 1}"), at(5) + "service.env.NESTED: expected a string, got a map");
  EXPECT_EQ(with("NUL: \"a\\0b\""), at(5) + "service.env.NUL: value contains a NUL byte");
  EXPECT_EQ(with("A: 1\n    A: 2"),
            at(6) + "service.env.A: duplicate key (first defined on line 5)");
}

// Finding 6 of issue 9: the server's own secrets are not the service's to expand.
TEST_F(ServiceConfigTest, ignite_secrets_cannot_be_expanded_into_a_service_env) {
  vars_["IGNITE_API_KEY"] = "k-secret";
  const std::string message =
      error_of(std::string(kMinimal) + "  env:\n    OK: x\n    X: \"${IGNITE_API_KEY}\"\n");
  EXPECT_EQ(message, at(6) + "service.env.X: ${IGNITE_API_KEY}: IGNITE_* variables are Ignite's "
                             "own and cannot be expanded");
  EXPECT_EQ(message.find("k-secret"), std::string::npos);
}

// Aliases repeat one scalar for free: a 400 KB file used to become gigabytes of environment.
TEST_F(ServiceConfigTest, aliases_cannot_amplify_the_environment) {
  const std::string value(100000, 'v');
  std::string env = std::string(kMinimal) + "  env:\n    V0: &a \"" + value + "\"\n";
  for (int i = 1; i < 2000; ++i) env += "    V" + std::to_string(i) + ": *a\n";
  const std::string env_error = error_of(env);
  EXPECT_TRUE(contains(env_error, at(15) + "service.env.V10: the environment is larger than "
                                           "1048576 bytes in total"));
  // A repeated dependency is a duplicate, so aliases cannot amplify the list.
  std::string deps = std::string(kMinimal) + "  dependencies:\n    - &d \"" + value + "\"\n";
  for (int i = 1; i < 2000; ++i) deps += "    - *d\n";
  EXPECT_TRUE(contains(error_of(deps), "service.dependencies[1]: duplicate dependency"));
}

// ---- dependencies and package.json -----------------------------------------------------------

TEST_F(ServiceConfigTest, DeclaredDependencies) {
  auto empty = parse(std::string(kMinimal) + "  dependencies: []\n");
  ASSERT_TRUE(empty) << empty.error().message;
  EXPECT_TRUE(empty->dependencies.empty());
  EXPECT_TRUE(empty->dependencies_declared);

  // Declared dependencies win; package.json is not even read.
  write("package.json", "{ not json");
  auto declared = parse(std::string(kMinimal) + "  dependencies:\n    - zod\n    - axios\n");
  ASSERT_TRUE(declared) << declared.error().message;
  EXPECT_EQ(declared->dependencies, (std::vector<std::string>{"zod", "axios"}));
  EXPECT_TRUE(declared->dependencies_declared);

  EXPECT_EQ(error_of(std::string(kMinimal) + "  dependencies: [a, b, a]\n"),
            at(4) + "service.dependencies[2]: duplicate dependency 'a'");
  EXPECT_EQ(error_of(std::string(kMinimal) + "  dependencies: [\"\"]\n"),
            at(4) + "service.dependencies[0]: dependency name must not be empty");
  EXPECT_TRUE(contains(error_of(std::string(kMinimal) + "  dependencies: [\"a b\"]\n"),
                       at(4) + "service.dependencies[0]: dependency name must not contain"));
}

TEST_F(ServiceConfigTest, DependenciesDetectedFromPackageJson) {
  write("package.json", R"({"name":"x","dependencies":{"zod":"^3","axios":"1","lodash":"4"},)"
                        R"("devDependencies":{"jest":"1"}})");
  auto r = parse(kMinimal);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->dependencies, (std::vector<std::string>{"axios", "lodash", "zod"}));
  EXPECT_FALSE(r->dependencies_declared);

  // "dependencies:" with no value counts as absent.
  auto null_deps = parse(std::string(kMinimal) + "  dependencies:\n");
  ASSERT_TRUE(null_deps) << null_deps.error().message;
  EXPECT_EQ(null_deps->dependencies.size(), 3u);
  EXPECT_FALSE(null_deps->dependencies_declared);
}

// ---- python: requirements.txt and pip ------------------------------------------------------

constexpr std::string_view kPython = "service:\n  name: py\n  runtime: python\n  entry: main.py\n";

TEST_F(ServiceConfigTest, python_dependencies_are_detected_from_requirements_txt) {
  write("main.py", "print(1)\n");
  write("package.json", R"({"dependencies":{"zod":"^3"}})");  // not python's
  write("requirements.txt",
        "# pinned\nRequests==2.31.0  # http\npandas[excel]>=2 ; python_version>'3.8'\n-r more.txt\n"
        "--index-url https://example.invalid/simple\n\nmylib @ https://example.invalid/mylib.whl\n"
        "https://example.invalid/other-1.0.tar.gz\nrequests\n");
  auto r = parse(kPython);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->dependencies, (std::vector<std::string>{"https://example.invalid/other-1.0.tar.gz", "mylib", "pandas",
                                                        "requests"}));
  EXPECT_FALSE(r->dependencies_declared);
}

TEST_F(ServiceConfigTest, a_requirements_txt_linked_out_of_the_service_is_refused) {
  write("main.py", "print(1)\n");
  write("secret.txt", "x\n", root_);
  fs::create_symlink(root_ / "secret.txt", dir_ / "requirements.txt");
  EXPECT_TRUE(contains(error_of(kPython), "requirements.txt: resolves outside the service directory"));
}

TEST_F(ServiceConfigTest, pip_settings_are_read_and_checked) {
  write("main.py", "print(1)\n");
  fs::create_directories(dir_ / "wheels");
  auto r = parse(std::string(kPython) +
                 "  pip:\n    indexUrl: https://pypi.internal/simple\n    findLinks: [wheels, https://x.invalid/links]\n");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->pip.index_url, "https://pypi.internal/simple");
  ASSERT_EQ(r->pip.find_links.size(), 2u);
  EXPECT_EQ(r->pip.find_links[0].dir, fs::canonical(dir_) / "wheels");
  EXPECT_TRUE(r->pip.find_links[1].dir.empty());
  EXPECT_FALSE(r->pip.no_index);

  EXPECT_EQ(error_of(std::string(kPython) + "  pip:\n    indexUrl: file:///etc\n"),
            at(6) + "service.pip.indexUrl: expected an http:// or https:// URL");
  for (const char* bad : {"..", "/tmp", "wheels/../..", "."})
    EXPECT_EQ(error_of(std::string(kPython) + "  pip:\n    findLinks: [\"" + bad + "\"]\n"),
              at(6) + "service.pip.findLinks[0]: expected an http(s) URL or the name of a directory in the service "
                      "directory, got '" + bad + "'");
  fs::create_symlink(root_, dir_ / "up");
  EXPECT_EQ(error_of(std::string(kPython) + "  pip:\n    findLinks: [up]\n"),
            at(6) + "service.pip.findLinks[0]: 'up' is not a directory in the service directory (a link is not followed)");
  EXPECT_TRUE(contains(error_of(std::string(kPython) + "  pip:\n    noIndex: true\n"), "noIndex needs findLinks"));
  EXPECT_EQ(error_of(std::string(kPython) + "  pip:\n    indexURL: https://x\n"),
            at(6) + "service.pip.indexURL: unknown key (did you mean 'indexUrl'?)");
  EXPECT_EQ(error_of(std::string(kMinimal) + "  pip:\n    noIndex: false\n"),
            at(4) + "service.pip: pip is for runtime: python only");
}

TEST_F(ServiceConfigTest, PackageJsonWithoutDependencies) {
  write("package.json", R"({"name":"x"})");
  auto r = parse(kMinimal);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->dependencies.empty());
  EXPECT_FALSE(r->dependencies_declared);
}

TEST_F(ServiceConfigTest, MalformedPackageJsonNamesTheFile) {
  const std::string pkg = (fs::canonical(dir_) / "package.json").string();
  write("package.json", "{\"dependencies\": {\"a\": 1,}\n");
  auto r = parse(kMinimal);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::invalid_argument);
  EXPECT_TRUE(contains(r.error().message, pkg + ": not valid JSON: "));
  EXPECT_TRUE(contains(r.error().message, "line 1"));

  // Security: the service directory is hostile; nesting is bounded before a DOM is built.
  write("package.json", std::string(100000, '[') + std::string(100000, ']'));
  r = parse(kMinimal);
  ASSERT_FALSE(r);
  EXPECT_TRUE(contains(r.error().message, pkg + ": JSON nested deeper than")) << r.error().message;

  write("package.json", R"({"dependencies": ["a"]})");
  EXPECT_EQ(error_of(kMinimal), pkg + ": \"dependencies\" must be an object, got array");
  write("package.json", "[]");
  EXPECT_EQ(error_of(kMinimal), pkg + ": expected a JSON object, got array");
}

TEST_F(ServiceConfigTest, PackageJsonSymlinkOutsideIsRejected) {
  write("package.json", R"({"dependencies":{"a":"1"}})", root_);
  fs::create_symlink(root_ / "package.json", dir_ / "package.json");
  EXPECT_TRUE(contains(error_of(kMinimal), "package.json: resolves outside the service directory"));
}

// ---- preflight -------------------------------------------------------------------------------

TEST_F(ServiceConfigTest, PreflightRatioOrdering) {
  EXPECT_EQ(error_of(std::string(kMinimal) +
                     "preflight:\n  memory:\n    warnRatio: 0.8\n    failRatio: 1.0\n"),
            at(7) + "preflight.memory: failRatio (1) must be less than warnRatio (0.8)");
  EXPECT_EQ(error_of(std::string(kMinimal) + "preflight:\n  memory:\n    failRatio: 1\n"),
            at(6) + "preflight.memory: failRatio (1) must be less than warnRatio (1)");
  EXPECT_EQ(error_of(std::string(kMinimal) + "preflight:\n  memory:\n    warnRatio: 0.5\n"),
            at(6) + "preflight.memory: failRatio (0.8) must be less than warnRatio (0.5)");
  auto ok = parse(std::string(kMinimal) + "preflight:\n  memory:\n    failRatio: 0.5\n");
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_DOUBLE_EQ(ok->preflight.memory.fail_ratio, 0.5);
  EXPECT_DOUBLE_EQ(ok->preflight.memory.warn_ratio, 1.0);
}

TEST_F(ServiceConfigTest, PreflightValuesMustBePositiveNumbers) {
  EXPECT_EQ(error_of(std::string(kMinimal) + "preflight:\n  memory:\n    baseMb: 0\n"),
            at(6) + "preflight.memory.baseMb: must be greater than 0, got 0");
  EXPECT_EQ(error_of(std::string(kMinimal) + "preflight:\n  memory:\n    perDependencyMb: x\n"),
            at(6) + "preflight.memory.perDependencyMb: expected a number, got 'x'");
  EXPECT_EQ(error_of(std::string(kMinimal) + "preflight: [1]\n"),
            at(4) + "preflight: expected a map, got a list");
  auto empty = parse(std::string(kMinimal) + "preflight:\n");
  ASSERT_TRUE(empty) << empty.error().message;
  EXPECT_EQ(empty->preflight, PreflightThresholds{});
}

// ---- YAML itself -----------------------------------------------------------------------------

TEST_F(ServiceConfigTest, MalformedYamlReportsLine) {
  std::string msg;
  EXPECT_NO_THROW(msg = error_of("service:\n  name: a\n  entry: [index.ts\n  memoryMb: 1\n"));
  EXPECT_TRUE(contains(msg, file() + ":"));
  EXPECT_TRUE(contains(msg, ": invalid YAML: "));
  EXPECT_NO_THROW(msg = error_of("service:\n  name: a\n   bad: indent: here\n"));
  EXPECT_TRUE(contains(msg, at(3) + "invalid YAML: "));
  EXPECT_NO_THROW(msg = error_of("service: {name: a\n"));
  EXPECT_TRUE(contains(msg, "invalid YAML: "));
}

TEST_F(ServiceConfigTest, EmptyOrCommentOnlyFileIsAnError) {
  EXPECT_EQ(error_of(""), at(1) + "file is empty (expected a 'service' map)");
  EXPECT_EQ(error_of("# nothing here\n\n"), at(1) + "file is empty (expected a 'service' map)");
}

TEST_F(ServiceConfigTest, MultipleDocumentsAreAnError) {
  EXPECT_TRUE(contains(error_of(std::string(kMinimal) + "---\nservice:\n  name: b\n"),
                       at(5) + "expected a single YAML document, found 2"));
}

TEST_F(ServiceConfigTest, GarbageNeverThrows) {
  for (std::string_view junk :
       {std::string_view("\t\tservice:\n"), std::string_view("{{{{"), std::string_view("&a [*a]"),
        std::string_view("service: *nope\n"), std::string_view("\xff\xfe\x00\x01", 4),
        std::string_view("service:\n  ? [a, b]\n  : c\n"), std::string_view("'")}) {
    EXPECT_NO_THROW({
      auto r = parse(junk);
      EXPECT_FALSE(r);
    }) << junk;
  }
}

// ---- load_service ----------------------------------------------------------------------------

TEST_F(ServiceConfigTest, LoadServiceReadsServiceYaml) {
  write("service.yaml", kMinimal);
  auto r = load_service(dir_, env());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->name, "hello");
  EXPECT_EQ(r->dir, fs::canonical(dir_));
}

TEST_F(ServiceConfigTest, LoadServiceAcceptsYml) {
  write("service.yml", "service:\n  name: a\n  entry: index.ts\n  memoryMb: x\n");
  auto r = load_service(dir_, env());
  ASSERT_FALSE(r);
  // Errors name the file actually read.
  EXPECT_EQ(r.error().message, (fs::canonical(dir_) / "service.yml").string() +
                                   ":4: service.memoryMb: expected an integer, got 'x'");
}

TEST_F(ServiceConfigTest, LoadServiceErrors) {
  auto missing_dir = load_service(root_ / "nope", env());
  ASSERT_FALSE(missing_dir);
  EXPECT_EQ(missing_dir.error().code, ErrorCode::invalid_argument);
  EXPECT_TRUE(
      contains(missing_dir.error().message, "no service.yaml in " + (root_ / "nope").string()));

  auto missing_file = load_service(dir_, env());
  ASSERT_FALSE(missing_file);
  EXPECT_EQ(missing_file.error().code, ErrorCode::invalid_argument);
  EXPECT_TRUE(contains(missing_file.error().message,
                       ": no service.yaml in " + fs::canonical(dir_).string()));

  write("service.yaml", kMinimal);
  write("service.yml", kMinimal);
  auto both = load_service(dir_, env());
  ASSERT_FALSE(both);
  EXPECT_TRUE(contains(both.error().message, "both service.yaml and service.yml"));
}

TEST_F(ServiceConfigTest, LoadServiceRefusesConfigOutsideTheDirectory) {
  write("elsewhere.yaml", kMinimal, root_);
  fs::create_symlink(root_ / "elsewhere.yaml", dir_ / "service.yaml");
  auto r = load_service(dir_, env());
  ASSERT_FALSE(r);
  EXPECT_TRUE(contains(r.error().message, "resolves outside the service directory"));
}

TEST_F(ServiceConfigTest, LoadServiceRefusesNonRegularFiles) {
  fs::create_directories(dir_ / "service.yaml");
  auto r = load_service(dir_, env());
  ASSERT_FALSE(r);
  EXPECT_TRUE(contains(r.error().message, "not a regular file"));
}

}  // namespace
}  // namespace ignite::config
