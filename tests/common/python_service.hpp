// A python service dir (main.py + service.yaml) made under `work`, planned as the engine plans a
// run of it (input {"n":7}): the backend tests' common program.
#pragma once
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "config/service_config.hpp"
#include "engine/engine.hpp"
#include "runtime/catalog.hpp"
#include "sys/files.hpp"

namespace ignite::testing {

inline SandboxSpec python_service_spec(const std::filesystem::path& dir, const std::string& name, const std::string& code,
                                       unsigned memory_mb, unsigned timeout_ms) {
  std::filesystem::create_directories(dir);
  EXPECT_TRUE(sys::write_new_file(dir / "main.py", code).has_value());
  EXPECT_TRUE(sys::write_new_file(dir / "service.yaml", "service:\n  name: " + name + "\n  runtime: python\n  entry: main.py\n"
                                                        "  memoryMb: " + std::to_string(memory_mb) +
                                                        "\n  timeoutMs: " + std::to_string(timeout_ms) + "\n")
                  .has_value());
  auto service = config::load_service(dir, config::process_env());
  auto rt = runtime::Catalog(runtime::default_roots()).resolve({"python", ""});
  if (!service || !rt) {
    ADD_FAILURE() << (service ? rt.error().message : service.error().message);
    return {};
  }
  return engine::plan_service_run(*service, *rt, std::string(R"({"n":7})"));
}

}  // namespace ignite::testing
