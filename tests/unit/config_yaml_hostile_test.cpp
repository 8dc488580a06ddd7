// service.yaml inputs found by tests/fuzz/fuzz_service_yaml that used to hang the loader
// (yaml-cpp 0.7's LoadAll loops forever, allocating, on them): now each is a prompt error.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "config/service_config.hpp"

namespace ignite::config {
namespace {

namespace fs = std::filesystem;

TEST(HostileYaml, inputs_that_hang_yaml_cpp_load_all_are_prompt_errors) {
  const fs::path dir = fs::temp_directory_path();
  const auto no_env = [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
  for (const char* text : {",", ",a", ", a\n", ",er+5 00e0x0u", "\n,\n", ",\x96i5"}) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = parse_service(text, dir / "service.yaml", dir, no_env);
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(1)) << text;
    ASSERT_FALSE(r.has_value()) << text;
    EXPECT_NE(r.error().message.find("service.yaml"), std::string::npos) << r.error().message;
  }
}

TEST(HostileYaml, empty_documents_around_the_service_map_are_still_accepted) {
  const fs::path dir = fs::temp_directory_path() / ("ignite-yaml-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  { FILE* f = std::fopen((dir / "main.py").c_str(), "w"); std::fclose(f); }
  const auto no_env = [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
  auto r = parse_service("service:\n  name: a\n  runtime: python\n  entry: main.py\n---\n",
                         dir / "service.yaml", dir, no_env);
  EXPECT_TRUE(r.has_value()) << r.error().message;
  fs::remove_all(dir);
}

// Finding 14 of issue 9: a 1 MiB service.yaml took 81 s (each map key and each dependency
// was compared with every one before it). A file at the size limit must load promptly.
TEST(HostileYaml, a_service_yaml_at_the_size_limit_loads_in_linear_time) {
  const fs::path dir = fs::temp_directory_path() / ("ignite-yaml-big-" + std::to_string(::getpid()));
  fs::create_directories(dir);
  { FILE* f = std::fopen((dir / "main.py").c_str(), "w"); std::fclose(f); }
  const auto no_env = [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
  const std::string head = "service:\n  name: big\n  runtime: python\n  entry: main.py\n";
  const std::size_t limit = 1u << 20;
  std::string env = head + "  env:\n";
  for (int i = 0; env.size() < limit - 64; ++i) env += "    V" + std::to_string(i) + ": x\n";
  std::string deps = head + "  dependencies:\n";
  for (int i = 0; deps.size() < limit - 64; ++i) deps += "    - d" + std::to_string(i) + "\n";
  for (const std::string* text : {&env, &deps}) {
    const auto t0 = std::chrono::steady_clock::now();
    auto r = parse_service(*text, dir / "service.yaml", dir, no_env);
    const auto took = std::chrono::steady_clock::now() - t0;
    ASSERT_TRUE(r.has_value()) << r.error().message;
    EXPECT_GT(r->env.size() + r->dependencies.size(), 70000u);
    // Linear: ~0.5 s here (RelWithDebInfo); the quadratic loader took 30-40 s.
    EXPECT_LT(took, std::chrono::seconds(10))
        << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms";
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace ignite::config
