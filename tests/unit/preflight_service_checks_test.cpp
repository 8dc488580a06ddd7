#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "preflight/service_checks.hpp"
#include "../common/temp_tree.hpp"

namespace ignite::preflight {
namespace {

namespace fs = std::filesystem;

config::ServiceConfig make_service(std::uint32_t memory_mb = 64, std::uint32_t timeout_ms = 5000) {
  config::ServiceConfig s;
  s.name = "data-processor";
  s.memory_mb = memory_mb;
  s.timeout_ms = timeout_ms;
  s.preflight.memory.base_mb = 32;  // pinned so the tests do not depend on runtime baselines
  return s;
}

RuntimeFacts bun() {
  RuntimeFacts rt;
  rt.name = "bun";
  rt.version = "1.3.4";
  rt.install_bytes = 100ull << 20;
  return rt;
}

ServiceFacts small_service() {
  ServiceFacts f;
  f.service_bytes = 5ull << 20;
  return f;
}

// By value: the tests call it on temporary reports.
CheckResult find(const ServiceReport& r, std::string_view name) {
  for (const CheckResult& c : r.checks) {
    if (c.name == name) return c;
  }
  throw std::runtime_error("no check " + std::string(name));
}

std::string fact(const CheckResult& c, std::string_view key) {
  for (const auto& [k, v] : c.facts) {
    if (k == key) return v;
  }
  return "<none>";
}

TEST(CheckService, WalkthroughExampleRendersExactly) {
  const ServiceReport r = check_service(make_service(), bun(), small_service());
  EXPECT_EQ(r.overall, CheckStatus::pass);
  EXPECT_EQ(render_text(r, "data-processor"),
            "[preflight] Analyzing service: data-processor\n"
            "\n"
            "\u2713 Memory Check\n"
            "  Allocated: 64MB\n"
            "  Estimated: 32MB\n"
            "  Status: OK\n"
            "\n"
            "\u2713 Timeout Check\n"
            "  Configured: 5000ms\n"
            "  Status: OK\n"
            "\n"
            "\u2713 Image Size Check\n"
            "  Base: 100MB\n"
            "  Total: ~105MB\n"
            "  Status: OK\n"
            "\n"
            "\u2713 Dependency Check\n"
            "  Count: 0\n"
            "  Status: OK\n"
            "\n"
            "[preflight] All checks passed\n");
}

TEST(MemoryCheck, EstimateUsesBaseAndPerDependency) {
  config::ServiceConfig s = make_service(128);
  s.preflight.memory.base_mb = 50;
  ServiceFacts f = small_service();
  f.dependencies = {"a", "b", "c"};
  const CheckResult& c = find(check_service(s, bun(), f), "Memory");
  EXPECT_EQ(c.status, CheckStatus::pass);
  EXPECT_DOUBLE_EQ(c.value, 128);
  EXPECT_DOUBLE_EQ(c.threshold, 56);  // 50 + 3 x 2
  EXPECT_EQ(c.unit, "MB");
  EXPECT_EQ(fact(c, "Estimated"), "56MB");
}

TEST(MemoryCheck, FallsBackToRuntimeBaseline) {
  config::ServiceConfig s = make_service(128);
  s.preflight.memory.base_mb.reset();
  RuntimeFacts rt = bun();
  rt.baseline_mb = 40.5;
  const CheckResult& c = find(check_service(s, rt, small_service()), "Memory");
  EXPECT_DOUBLE_EQ(c.threshold, 40.5);
  EXPECT_EQ(fact(c, "Estimated"), "40.5MB");
}

TEST(MemoryCheck, WarnsBelowWarnRatioAndFailsBelowFailRatio) {
  // Estimated 32MB: 30MB is ratio 0.94 (warn, < 1.0); 20MB is ratio 0.625 (fail, < 0.8).
  const ServiceReport warn = check_service(make_service(30), bun(), small_service());
  EXPECT_EQ(find(warn, "Memory").status, CheckStatus::warn);
  EXPECT_EQ(warn.overall, CheckStatus::warn);
  EXPECT_EQ(fact(find(warn, "Memory"), "Status"), "WARN");
  EXPECT_NE(fact(find(warn, "Memory"), "Reason").find("raise memoryMb to 32"), std::string::npos);

  const ServiceReport failed = check_service(make_service(20), bun(), small_service());
  EXPECT_EQ(find(failed, "Memory").status, CheckStatus::fail);
  EXPECT_EQ(failed.overall, CheckStatus::fail);

  // Exactly at the estimate passes (ratio 1.0 is not below warnRatio 1.0).
  EXPECT_EQ(find(check_service(make_service(32), bun(), small_service()), "Memory").status,
            CheckStatus::pass);
}

TEST(MemoryCheck, ZeroEstimateNeverFails) {
  config::ServiceConfig s = make_service(16);
  s.preflight.memory.base_mb = 0;
  EXPECT_EQ(find(check_service(s, bun(), small_service()), "Memory").status, CheckStatus::pass);
}

TEST(TimeoutCheck, BoundsAreMinimumAndRecommendedMaximum) {
  auto status = [](std::uint32_t ms) {
    return find(check_service(make_service(64, ms), bun(), small_service()), "Timeout");
  };
  EXPECT_EQ(status(99).status, CheckStatus::fail);
  EXPECT_DOUBLE_EQ(status(99).threshold, 100);
  EXPECT_EQ(status(100).status, CheckStatus::pass);
  EXPECT_EQ(status(300000).status, CheckStatus::pass);
  EXPECT_EQ(status(300001).status, CheckStatus::warn);
  EXPECT_DOUBLE_EQ(status(300001).threshold, 300000);
  EXPECT_EQ(fact(status(300001), "Configured"), "300001ms");
  EXPECT_EQ(status(5000).unit, "ms");
}

TEST(ImageSizeCheck, WarnsAbove500MbAndFailsAbove2Gb) {
  ServiceFacts f = small_service();
  f.dependency_bytes = 300ull << 20;  // 100 + 5 + 300 = 405MB
  EXPECT_EQ(find(check_service(make_service(), bun(), f), "Image Size").status, CheckStatus::pass);
  f.dependency_bytes = 400ull << 20;  // 505MB
  const CheckResult warn = find(check_service(make_service(), bun(), f), "Image Size");
  EXPECT_EQ(warn.status, CheckStatus::warn);
  EXPECT_DOUBLE_EQ(warn.value, 505);
  EXPECT_DOUBLE_EQ(warn.threshold, 500);
  EXPECT_EQ(fact(warn, "Total"), "~505MB");
  f.dependency_bytes = 2ull << 30;  // just over 2GB in total
  const CheckResult failed = find(check_service(make_service(), bun(), f), "Image Size");
  EXPECT_EQ(failed.status, CheckStatus::fail);
  EXPECT_DOUBLE_EQ(failed.threshold, 2048);
}

TEST(ImageSizeCheck, measures_the_runtime_image_when_the_service_runs_in_one) {
  ServiceFacts f = small_service();  // 5MB of service
  RuntimeFacts rt = bun();           // 100MB installed
  rt.image_bytes = 40ull << 20;      // a 40MB image replaces the install size
  const CheckResult c = find(check_service(make_service(), rt, f), "Image Size");
  EXPECT_EQ(c.status, CheckStatus::pass);
  EXPECT_DOUBLE_EQ(c.value, 45);
  EXPECT_EQ(c.message, "45MB with the runtime image");
  EXPECT_EQ(fact(c, "Image"), "40MB");
  EXPECT_EQ(fact(c, "Total"), "~45MB");

  rt.image_bytes = 600ull << 20;  // the image alone is over the recommendation
  const CheckResult warn = find(check_service(make_service(), rt, f), "Image Size");
  EXPECT_EQ(warn.status, CheckStatus::warn);
  EXPECT_EQ(warn.message, "605MB with the runtime image exceeds the recommended 500MB");

  rt.image_bytes.reset();  // no image: the runtime on disk, as before
  EXPECT_EQ(find(check_service(make_service(), rt, f), "Image Size").message, "105MB on disk");
}

TEST(DependencyCheck, WarnsOnInstallScriptsManyDepsAndMissingLockfile) {
  ServiceFacts f = small_service();
  f.dependencies = {"lodash"};
  f.package_json_dependencies = true;
  f.lockfile_present = true;
  EXPECT_EQ(find(check_service(make_service(512), bun(), f), "Dependency").status,
            CheckStatus::pass);

  ServiceFacts scripts = f;
  scripts.install_scripts = {"esbuild"};
  const CheckResult s = find(check_service(make_service(512), bun(), scripts), "Dependency");
  EXPECT_EQ(s.status, CheckStatus::warn);
  EXPECT_NE(s.message.find("esbuild"), std::string::npos);

  ServiceFacts many = f;
  many.dependencies.assign(101, "dep");
  const CheckResult m = find(check_service(make_service(512), bun(), many), "Dependency");
  EXPECT_EQ(m.status, CheckStatus::warn);
  EXPECT_EQ(fact(m, "Count"), "101");
  EXPECT_DOUBLE_EQ(m.threshold, 100);

  ServiceFacts unlocked = f;
  unlocked.lockfile_present = false;
  const CheckResult u = find(check_service(make_service(512), bun(), unlocked), "Dependency");
  EXPECT_EQ(u.status, CheckStatus::warn);
  EXPECT_EQ(fact(u, "Lockfile"), "missing");

  // Dependencies declared in service.yaml only (no package.json) need no lockfile.
  ServiceFacts declared = f;
  declared.package_json_dependencies = false;
  declared.lockfile_present = false;
  EXPECT_EQ(find(check_service(make_service(512), bun(), declared), "Dependency").status,
            CheckStatus::pass);
}

TEST(RenderText, SummarisesWarningsAndFailures) {
  const ServiceReport warn = check_service(make_service(64, 400000), bun(), small_service());
  const std::string text = render_text(warn, "svc");
  EXPECT_NE(text.find("\u26A0 Timeout Check\n  Configured: 400000ms\n  Status: WARN\n"),
            std::string::npos);
  EXPECT_TRUE(text.ends_with("\n\n[preflight] 1 warning(s)\n"));

  const ServiceReport failed = check_service(make_service(8, 50), bun(), small_service());
  EXPECT_EQ(failed.overall, CheckStatus::fail);
  const std::string ftext = render_text(failed, "svc");
  EXPECT_NE(ftext.find("\u2717 Memory Check\n"), std::string::npos);
  EXPECT_TRUE(ftext.ends_with("[preflight] 2 check(s) failed\n"));
}

TEST(CheckStatusNames, MatchTheContract) {
  EXPECT_EQ(to_string(CheckStatus::pass), "pass");
  EXPECT_EQ(to_string(CheckStatus::warn), "warn");
  EXPECT_EQ(to_string(CheckStatus::fail), "fail");
}

class GatherTest : public ::testing::Test {
 protected:
  void write(const fs::path& rel, std::string_view text) { tree_.write(rel, text); }

  testing::TempTree tree_{"ignite-preflight-"};
  fs::path root_ = tree_.path();
};

TEST_F(GatherTest, MeasuresSizesScriptsAndLockfilesWithoutFollowingSymlinks) {
  fs::path dir = root_ / "svc";
  fs::path outside = root_ / "outside";
  write("svc/index.ts", std::string(1000, 'x'));
  write("svc/package.json", R"({"dependencies":{"lodash":"^4","@acme/tool":"1"}})");
  write("svc/lib/util.ts", std::string(24, 'y'));
  write("svc/node_modules/lodash/package.json", R"({"name":"lodash"})");
  write("svc/node_modules/esbuild/package.json", R"({"scripts":{"postinstall":"node x.js"}})");
  write("svc/node_modules/@acme/tool/package.json", R"({"scripts":{"preinstall":"sh x"}})");
  write("svc/node_modules/@acme/quiet/package.json", R"({"scripts":{"test":"jest"}})");
  write("svc/node_modules/broken/package.json", "{not json");
  write("outside/big.bin", std::string(50000, 'z'));
  write("outside/evil/package.json", R"({"scripts":{"install":"rm -rf /"}})");
  // Symlinks must be neither measured nor inspected.
  fs::create_directory_symlink(outside, dir / "link-to-outside");
  fs::create_symlink(outside / "big.bin", dir / "big-link.bin");
  fs::create_directory_symlink(outside / "evil", dir / "node_modules" / "evil");

  config::ServiceConfig s = make_service();
  s.dir = dir;
  ServiceFacts f = gather_service_facts(s);

  const std::uint64_t pkg_json = fs::file_size(dir / "package.json");
  EXPECT_EQ(f.service_bytes, 1000 + 24 + pkg_json);
  std::uint64_t modules = 0;
  for (const char* p : {"lodash", "esbuild", "@acme/tool", "@acme/quiet", "broken"}) {
    modules += fs::file_size(dir / "node_modules" / p / "package.json");
  }
  EXPECT_EQ(f.dependency_bytes, modules);
  EXPECT_EQ(f.install_scripts, (std::vector<std::string>{"@acme/tool", "esbuild"}));
  EXPECT_EQ(f.dependencies, (std::vector<std::string>{"@acme/tool", "lodash"}));
  EXPECT_TRUE(f.package_json_dependencies);
  EXPECT_FALSE(f.lockfile_present);

  write("svc/bun.lock", "{}");
  EXPECT_TRUE(gather_service_facts(s).lockfile_present);
}

TEST_F(GatherTest, DeclaredDependenciesWinAndMissingDirIsZero) {
  write("svc/service.yaml", "service: {}\n");
  config::ServiceConfig s = make_service();
  s.dir = root_ / "svc";
  s.dependencies = {"zod"};
  s.dependencies_declared = true;
  ServiceFacts f = gather_service_facts(s);
  EXPECT_EQ(f.dependencies, std::vector<std::string>{"zod"});
  EXPECT_FALSE(f.package_json_dependencies);

  s.dir = root_ / "does-not-exist";
  ServiceFacts none = gather_service_facts(s);
  EXPECT_EQ(none.service_bytes, 0u);
  EXPECT_EQ(none.dependency_bytes, 0u);
}

TEST(LockfileNames, ListsTheKnownLockfiles) {
  const auto names = lockfile_names();
  ASSERT_EQ(names.size(), 6u);
  EXPECT_EQ(names.front(), "package-lock.json");
  EXPECT_EQ(names.back(), "deno.lock");
}

}  // namespace
}  // namespace ignite::preflight
