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

}  // namespace
}  // namespace ignite::config
