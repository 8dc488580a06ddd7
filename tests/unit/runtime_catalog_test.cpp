// Runtime catalog against a fake runtime store, and the engine's sandbox plan for a service.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "engine/engine.hpp"
#include "runtime/catalog.hpp"
#include "../common/temp_tree.hpp"

namespace ignite::runtime {
namespace {

namespace fs = std::filesystem;

class FakeStore : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* v : {"1.2.9", "1.10.0", "1.3.4"}) add("bun", v, "bin/bun");
    fs::create_directories(root_ / "empty-bin");
  }
  void add(const std::string& name, const std::string& version, const std::string& bin) {
    const fs::path p = tree_.write(fs::path("store") / name / version / bin, "#!/bin/sh\n");
    fs::permissions(p, fs::perms::owner_all);
  }
  Catalog catalog() const { return Catalog({root_ / "store", root_ / "empty-bin"}); }
  testing::TempTree tree_{"ignite-store-"};
  fs::path root_ = tree_.path();
};

TEST_F(FakeStore, newest_version_wins_and_prefixes_match_whole_components) {
  auto any = catalog().resolve({"bun", ""});
  ASSERT_TRUE(any.has_value()) << any.error().message;
  EXPECT_EQ(any->version, "1.10.0");  // numeric, not lexical, ordering
  auto pinned = catalog().resolve({"bun", "1.3"});
  ASSERT_TRUE(pinned.has_value());
  EXPECT_EQ(pinned->version, "1.3.4");
  EXPECT_EQ(pinned->label(), "bun@1.3.4");
  EXPECT_FALSE(catalog().resolve({"bun", "1.1"}).has_value());  // 1.10.0 is not 1.1.x
}

TEST_F(FakeStore, missing_runtime_lists_what_is_installed_and_how_to_install) {
  auto r = catalog().resolve({"bun", "2"});
  ASSERT_FALSE(r.has_value());
  EXPECT_NE(r.error().message.find("installed: bun@1.10.0, bun@1.3.4, bun@1.2.9"), std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("install"), std::string::npos);
  auto py = catalog().resolve({"python", ""});
  ASSERT_FALSE(py.has_value());
  EXPECT_NE(py.error().message.find("no version of python"), std::string::npos);
}

TEST_F(FakeStore, service_plan_mounts_the_service_read_only_and_sets_only_contract_env) {
  auto rt = catalog().resolve({"bun", "1.3"});
  ASSERT_TRUE(rt.has_value());
  config::ServiceConfig svc;
  svc.name = "svc";
  svc.dir = root_;
  svc.entry = "src/index.ts";
  svc.memory_mb = 64;
  svc.timeout_ms = 5000;
  svc.env = {{"DEBUG", "true"}};
  auto spec = engine::plan_service_run(svc, *rt, std::string(R"({"a":1})"));
  EXPECT_EQ(spec.argv.back(), "/app/src/index.ts");
  EXPECT_EQ(spec.argv.front(), "/opt/ignite/bun/bin/bun");
  EXPECT_EQ(spec.workdir, "/app");
  bool app_ro = false;
  for (const auto& m : spec.mounts) app_ro |= (m.target == "/app" && m.source == root_ && !m.writable);
  EXPECT_TRUE(app_ro);
  auto has = [&](const std::string& e) {
    return std::find(spec.env.begin(), spec.env.end(), e) != spec.env.end();
  };
  EXPECT_TRUE(has("HOME=/tmp"));
  EXPECT_TRUE(has("DEBUG=true"));
  EXPECT_TRUE(has(R"(IGNITE_INPUT={"a":1})"));
  EXPECT_EQ(spec.limits.memory_bytes, 64ull << 20);
  EXPECT_EQ(spec.limits.wall_time, std::chrono::milliseconds(5000));
  EXPECT_FALSE(spec.limits.network);
  auto no_input = engine::plan_service_run(svc, *rt, std::nullopt);
  for (const auto& e : no_input.env) EXPECT_NE(e.rfind("IGNITE_INPUT=", 0), 0u);
}

}  // namespace
}  // namespace ignite::runtime
