// `ignite` end to end: the README's promises, exit codes and the JSON document of CONTRACT §2/§4.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "cli_helpers.hpp"
#include "docker/elf_deps.hpp"

namespace ignite::testing {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;
const std::string kExample = std::string(IGNITE_SOURCE_DIR) + "/examples/data-processor";

// A throwaway service directory with a service.yaml and one program file.
class TempService {
 public:
  TempService(const std::string& yaml, const std::string& file, const std::string& code) {
    dir_ = fs::temp_directory_path() / ("ignite-e2e-" + std::to_string(::getpid()) + "-" +
                                        std::to_string(counter_++));
    fs::create_directories(dir_);
    std::ofstream(dir_ / "service.yaml") << yaml;
    if (!file.empty()) std::ofstream(dir_ / file) << code;
  }
  ~TempService() { fs::remove_all(dir_); }
  std::string path() const { return dir_.string(); }

 private:
  static inline int counter_ = 0;
  fs::path dir_;
};

std::string python_service(const std::string& extra = "") {
  return "service:\n  name: e2e\n  runtime: python\n  entry: main.py\n  memoryMb: 64\n"
         "  timeoutMs: 3000\n" + extra;
}

bool can_sandbox() { return ::geteuid() == 0; }
#define REQUIRE_SANDBOX() \
  if (!can_sandbox()) GTEST_SKIP() << "needs root for the native sandbox (rootless: issue 4)"

TEST(CliE2E, version_prints_the_version) {
  auto r = run_cli({"--version"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out.rfind("ignite ", 0), 0u) << r.out;
}

// libcurl and cnats (with their ~30 TLS/Kerberos/LDAP dependencies) are loaded when the docker
// backend or the NATS transport first needs them, not by every start of the CLI; libcrypto is
// not used at all, in any build.
TEST(CliE2E, the_cli_does_not_link_libcurl_or_cnats) {
  const int fd = ::open(IGNITE_BIN, O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  auto deps = docker::read_elf_deps(fd);
  ::close(fd);
  ASSERT_TRUE(deps && *deps);
  ASSERT_FALSE((*deps)->needed.empty());
  for (const std::string& lib : (*deps)->needed) {
    EXPECT_EQ(lib.find("libcurl"), std::string::npos) << lib;
    EXPECT_EQ(lib.find("libnats"), std::string::npos) << lib;
    EXPECT_EQ(lib.find("libssl"), std::string::npos) << lib;
    EXPECT_EQ(lib.find("libcrypto"), std::string::npos) << lib << ": SHA-256 is ours (sys/sha256.hpp)";
  }
}

// With IGNITE_STATIC_DEPS (the default outside sanitizer builds) the libraries every start
// binds are inside the binary: the loader maps and searches only libc and libm
// (cmake/link_deps.cmake says why).
TEST(CliE2E, the_cli_loads_no_cxx_library_at_start) {
  if (!IGNITE_STATIC_DEPS) GTEST_SKIP() << "built with IGNITE_STATIC_DEPS=OFF: shared libraries by choice";
  const int fd = ::open(IGNITE_BIN, O_RDONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  auto deps = docker::read_elf_deps(fd);
  ::close(fd);
  ASSERT_TRUE(deps && *deps);
  for (const std::string& lib : (*deps)->needed)
    EXPECT_TRUE(lib.rfind("libc.so", 0) == 0 || lib.rfind("libm.so", 0) == 0 || lib.rfind("ld-linux", 0) == 0)
        << "ignite needs " << lib;
}

TEST(CliE2E, unknown_subcommand_is_exit_125) {
  auto r = run_cli({"frobnicate"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_NE(r.err.find("ignite:"), std::string::npos);
}

TEST(CliE2E, readme_demo_prints_the_sum) {
  REQUIRE_SANDBOX();
  auto r = run_cli({"run", kExample, "--input", R"({"data":[1,2,3,4,5],"operation":"sum"})"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind(R"({"result":15,"operation":"sum","count":5,"timestamp":")", 0), 0u) << r.out;
  EXPECT_NE(r.err.find("[ignite] ok"), std::string::npos) << r.err;
}

TEST(CliE2E, run_json_is_one_result_document) {
  REQUIRE_SANDBOX();
  auto r = run_cli({"run", kExample, "--input", R"({"data":[10,20,30],"operation":"average"})",
                    "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  Json doc = Json::parse(r.out);  // throws (fails the test) unless stdout is exactly one document
  EXPECT_EQ(doc["success"], true);
  EXPECT_EQ(doc["status"], "ok");
  EXPECT_EQ(doc["serviceName"], "data-processor");
  EXPECT_EQ(doc["isolation"], suite_backend());
  EXPECT_EQ(doc["runtime"].get<std::string>().rfind("bun@", 0), 0u);
  EXPECT_NE(doc["output"].get<std::string>().find("\"result\":20"), std::string::npos);
  EXPECT_EQ(doc["output"], doc["stdout"]);
  EXPECT_GT(doc["metrics"]["executionTimeMs"].get<double>(), 0);
  EXPECT_GT(doc["metrics"]["cpuTimeMs"].get<double>(), 0);
  EXPECT_GT(doc["metrics"]["memoryUsedMb"].get<double>(), 0);
  EXPECT_EQ(doc["limits"]["memoryMb"], 64);
  EXPECT_EQ(doc["limits"]["timeoutMs"], 5000);
  EXPECT_EQ(doc["preflight"]["overallStatus"], "pass");
}

TEST(CliE2E, program_exit_code_is_passed_through) {
  REQUIRE_SANDBOX();
  TempService svc(python_service(), "main.py", "import sys\nprint('bye')\nsys.exit(3)\n");
  auto r = run_cli({"run", svc.path(), "--json"});
  EXPECT_EQ(r.exit_code, 3);
  Json doc = Json::parse(r.out);
  EXPECT_EQ(doc["status"], "runtime_error");
  EXPECT_EQ(doc["success"], false);
  EXPECT_EQ(doc["exitCode"], 3);
  EXPECT_EQ(doc["stdout"], "bye\n");
}

TEST(CliE2E, timeout_is_exit_124_within_half_a_second) {
  REQUIRE_SANDBOX();
  TempService svc(python_service("").replace(python_service("").find("timeoutMs: 3000"), 15,
                                             "timeoutMs: 1000"),
                  "main.py", "import time\ntime.sleep(30)\n");
  auto t0 = std::chrono::steady_clock::now();
  auto r = run_cli({"run", svc.path(), "--json"});
  auto elapsed = std::chrono::steady_clock::now() - t0;
  EXPECT_EQ(r.exit_code, 124) << r.err;
  const Json doc = Json::parse(r.out);
  EXPECT_EQ(doc["status"], "timeout");
  // The whole CLI (load, preflight, sandbox, Python start) within timeout + 500 ms; a microVM's
  // boot (setupMs, ~1 s under emulation) comes before its program's clock starts.
  const auto boot = suite_isolation().empty() ? 0.0 : doc["metrics"]["setupMs"].get<double>();
  EXPECT_LT(elapsed, std::chrono::milliseconds(1500) + std::chrono::milliseconds(static_cast<long>(boot)));
}

TEST(CliE2E, memory_bomb_is_exit_137) {
  REQUIRE_SANDBOX();
  TempService svc(python_service(), "main.py", "x = bytearray(200 * 1024 * 1024)\nprint('no')\n");
  auto r = run_cli({"run", svc.path(), "--json"});
  EXPECT_EQ(r.exit_code, 137) << r.err;
  Json doc = Json::parse(r.out);
  EXPECT_EQ(doc["status"], "memory_limit");
  EXPECT_LE(doc["metrics"]["memoryUsedMb"].get<double>(), 64.5);
}

TEST(CliE2E, input_and_service_env_reach_the_program_and_nothing_else) {
  REQUIRE_SANDBOX();
  TempService svc(python_service("  env:\n    GREETING: \"${E2E_GREETING:-hi}\"\n"), "main.py",
                  "import os, json\nprint(json.dumps(sorted(os.environ.keys())))\n"
                  "print(os.environ['GREETING'], os.environ['IGNITE_INPUT'])\n");
  auto r = run_cli({"run", svc.path(), "--input", R"({"k": [1, 2]})"},
                   {"E2E_GREETING=hello", "E2E_SECRET=leak"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("hello {\"k\":[1,2]}"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("E2E_SECRET"), std::string::npos) << r.out;
}

struct BadConfig {
  std::string name;
  std::string yaml;
  std::string expect;  // a piece of the message: line and key
};

class InvalidConfig : public ::testing::TestWithParam<BadConfig> {};

TEST_P(InvalidConfig, is_exit_125_naming_line_and_key) {
  const auto& c = GetParam();
  TempService svc(c.yaml, "main.py", "print(1)\n");
  auto r = run_cli({"run", svc.path()});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_NE(r.err.find(c.expect), std::string::npos) << r.err;
  EXPECT_EQ(r.out, "");
}

INSTANTIATE_TEST_SUITE_P(
    CliE2E, InvalidConfig,
    ::testing::Values(
        BadConfig{"unknown_key",
                  "service:\n  name: ok\n  entry: main.py\n  memroyMb: 64\n",
                  "service.yaml:4: service.memroyMb: unknown key (did you mean 'memoryMb'?)"},
        BadConfig{"bad_type", "service:\n  name: ok\n  entry: main.py\n  timeoutMs: soon\n",
                  "service.yaml:4: service.timeoutMs"},
        BadConfig{"missing_entry", "service:\n  name: ok\n  runtime: python\n",
                  "service.entry"},
        BadConfig{"uppercase_name", "service:\n  name: Bad\n  entry: main.py\n",
                  "service.yaml:2: service.name"},
        BadConfig{"entry_escapes", "service:\n  name: ok\n  entry: ../x\n",
                  "service.yaml:3: service.entry"}),
    [](const auto& param_info) { return param_info.param.name; });

TEST(CliE2E, failing_preflight_stops_the_run_with_125) {
  REQUIRE_SANDBOX();
  TempService svc(python_service("preflight:\n  memory: { baseMb: 500 }\n"), "main.py",
                  "print('should not run')\n");
  auto r = run_cli({"run", svc.path()});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_NE(r.err.find("preflight failed"), std::string::npos) << r.err;
  EXPECT_EQ(r.out.find("should not run"), std::string::npos);
  auto skipped = run_cli({"run", svc.path(), "--skip-preflight"});
  EXPECT_EQ(skipped.exit_code, 0) << skipped.err;
  auto pf = run_cli({"preflight", svc.path()});
  EXPECT_EQ(pf.exit_code, 1);
  EXPECT_NE(pf.out.find("✗ Memory Check"), std::string::npos) << pf.out;
}

TEST(CliE2E, preflight_of_the_seed_passes) {
  auto r = run_cli({"preflight", kExample});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("[preflight] Analyzing service: data-processor"), std::string::npos);
  EXPECT_NE(r.out.find("✓ Memory Check"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("[preflight] All checks passed"), std::string::npos) << r.out;
}

TEST(CliE2E, unreadable_service_dir_is_a_clear_125) {
  REQUIRE_SANDBOX();
  TempService svc(python_service(), "main.py", "print(1)\n");
  fs::permissions(svc.path(), fs::perms::owner_all);  // 0700: the sandbox user cannot enter
  auto r = run_cli({"run", svc.path()});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_NE(r.err.find("chmod -R o+rX"), std::string::npos) << r.err;
}

TEST(CliE2E, invalid_input_json_is_125) {
  auto r = run_cli({"run", kExample, "--input", "{not json"});
  EXPECT_EQ(r.exit_code, 125);
  EXPECT_NE(r.err.find("--input is not valid JSON"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace ignite::testing
