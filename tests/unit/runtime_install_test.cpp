// Runtime installer, the parts that need no network: version picking, QuickJS version names,
// the CPU check, tarball layout (a fake npm package built here with tar) and the store commit.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "runtime/catalog.hpp"
#include "runtime/installer.hpp"
#include "runtime/installer_process.hpp"

namespace ignite::runtime {
namespace {

namespace fs = std::filesystem;

TEST(NpmVersions, parses_an_array_or_a_single_string_and_rejects_the_rest) {
  auto many = parse_npm_versions(R"(["1.0.0", "1.1.0"])");
  ASSERT_TRUE(many.has_value());
  EXPECT_EQ(*many, (std::vector<std::string>{"1.0.0", "1.1.0"}));
  auto one = parse_npm_versions(R"("2.9.6")");
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(*one, (std::vector<std::string>{"2.9.6"}));
  EXPECT_FALSE(parse_npm_versions("npm error code E404").has_value());
  EXPECT_FALSE(parse_npm_versions(R"({"a": 1})").has_value());
}

TEST(NewestMatching, prefixes_match_whole_components_and_order_is_numeric) {
  const std::vector<std::string> v{"20.9.0", "22.9.0", "22.10.1", "22.2.0", "2.0.0", "23.0.0", "220.1.0"};
  EXPECT_EQ(newest_matching(v, "22"), "22.10.1");  // 22.10 > 22.9; 220.x is not 22.x
  EXPECT_EQ(newest_matching(v, "22.9"), "22.9.0");
  EXPECT_EQ(newest_matching(v, "2"), "2.0.0");
  EXPECT_EQ(newest_matching(v, ""), "220.1.0");
  EXPECT_EQ(newest_matching(v, "22.9.0"), "22.9.0");
  EXPECT_FALSE(newest_matching(v, "21").has_value());
  EXPECT_FALSE(newest_matching(v, "22.1").has_value());  // 22.10.1 is not 22.1.x
  EXPECT_FALSE(newest_matching({}, "").has_value());
}

TEST(NewestMatching, pre_releases_only_when_named_exactly) {
  const std::vector<std::string> v{"1.3.4", "1.4.0-canary.1", "1.3.5-rc.1", "garbage", "1..2"};
  EXPECT_EQ(newest_matching(v, ""), "1.3.4");
  EXPECT_EQ(newest_matching(v, "1"), "1.3.4");
  EXPECT_EQ(newest_matching(v, "1.4.0-canary.1"), "1.4.0-canary.1");
  EXPECT_FALSE(newest_matching(v, "1.4").has_value());
}

TEST(QuickjsVersion, the_release_date_becomes_a_dotted_version) {
  EXPECT_EQ(quickjs_store_version("2021-03-27\n"), "2021.03.27");
  EXPECT_EQ(quickjs_store_version("2024-01-13"), "2024.01.13");
  EXPECT_EQ(quickjs_store_version(""), "");
  EXPECT_EQ(quickjs_store_version("latest"), "");
  EXPECT_EQ(quickjs_store_version("../../etc"), "");
}

TEST(CpuFlags, avx2_is_a_whole_word) {
  EXPECT_TRUE(cpu_has_avx2("flags\t\t: fpu sse4_2 avx avx2 bmi2\n"));
  EXPECT_TRUE(cpu_has_avx2("flags : avx2"));
  EXPECT_FALSE(cpu_has_avx2("flags\t\t: fpu avx avx512f\n"));
  EXPECT_FALSE(cpu_has_avx2("flags : xavx2x"));
}

class TempTree : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("ignite-install-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  void write(const fs::path& p, const std::string& text, bool exec = false) {
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    if (exec) fs::permissions(p, fs::perms::owner_all);
  }

  // An npm-style tarball: everything under package/, as `npm pack` produces it.
  fs::path make_tarball(const std::string& version_output) {
    const fs::path src = root_ / "src";
    write(src / "package/package.json", R"({"name":"fake-runtime"})");
    write(src / "package/bin/bun", "#!/bin/sh\necho 'fake " + version_output + "'\n", true);
    const fs::path tgz = root_ / "fake-runtime-1.2.3.tgz";
    auto out = run_command({{"tar", "-czf", tgz.string(), "-C", src.string(), "package"}, {}, {}, {}});
    EXPECT_TRUE(out && out->ok()) << (out ? out->err : out.error().message);
    return tgz;
  }

  Descriptor fake_descriptor() const {
    Descriptor d;
    d.name = "bun";  // a known name, so the catalog reads it back
    d.store_binary = "bin/bun";  // as in runtimes/bun.json
    d.store_mount = "/opt/ignite/bun";
    d.install.kind = "npm-binary";
    d.install.file = "package/bin/bun";
    return d;
  }

  fs::path root_;
};

TEST_F(TempTree, find_one_dir_matches_a_glob_in_the_last_component) {
  fs::create_directories(root_ / "package/deps/quickjs_2021_03_27");
  fs::create_directories(root_ / "package/deps/other");
  auto dir = find_one_dir(root_, "package/deps/quickjs_*");
  ASSERT_TRUE(dir.has_value()) << dir.error().message;
  EXPECT_EQ(dir->filename(), "quickjs_2021_03_27");
  fs::create_directories(root_ / "package/deps/quickjs_2024_01_13");
  EXPECT_FALSE(find_one_dir(root_, "package/deps/quickjs_*").has_value());  // ambiguous
  EXPECT_FALSE(find_one_dir(root_, "package/deps/nope_*").has_value());
}

TEST_F(TempTree, a_package_tarball_becomes_a_store_version_the_catalog_finds) {
  Installer installer({root_ / "store", root_ / "no-system", {}, true});
  const fs::path tgz = make_tarball("1.2.3");
  auto done = installer.install_binary_tarball(fake_descriptor(), tgz, "1.2.3");
  ASSERT_TRUE(done.has_value()) << done.error().message;
  EXPECT_EQ(done->kind, InstallOutcome::Kind::installed);
  EXPECT_EQ(done->path, root_ / "store/bun/1.2.3/bin/bun");
  // Readable and runnable by the sandbox's unprivileged uid.
  const auto perms = fs::status(done->path).permissions();
  EXPECT_NE(perms & fs::perms::others_exec, fs::perms::none);
  EXPECT_NE(fs::status(root_ / "store/bun/1.2.3").permissions() & fs::perms::others_exec, fs::perms::none);
  // Nothing left behind in the work area.
  EXPECT_TRUE(fs::is_empty(root_ / "store/.staging"));
  auto rt = Catalog({root_ / "store", root_ / "no-system"}).resolve({"bun", "1.2"});
  ASSERT_TRUE(rt.has_value()) << rt.error().message;
  EXPECT_EQ(rt->version, "1.2.3");
}

TEST_F(TempTree, a_binary_that_does_not_report_its_version_never_reaches_the_store) {
  Installer installer({root_ / "store", root_ / "no-system", {}, true});
  const fs::path tgz = make_tarball("9.9.9");
  auto done = installer.install_binary_tarball(fake_descriptor(), tgz, "1.2.3");
  ASSERT_FALSE(done.has_value());
  EXPECT_NE(done.error().message.find("expected '1.2.3'"), std::string::npos) << done.error().message;
  EXPECT_FALSE(fs::exists(root_ / "store/bun/1.2.3"));
}

TEST_F(TempTree, a_tarball_without_the_binary_is_an_error_naming_it) {
  Installer installer({root_ / "store", root_ / "no-system", {}, true});
  const fs::path tgz = make_tarball("1.2.3");
  Descriptor d = fake_descriptor();
  d.install.file = "package/deno";  // not in this tarball
  auto done = installer.install_binary_tarball(d, tgz, "1.2.3");
  ASSERT_FALSE(done.has_value());
  EXPECT_NE(done.error().message.find("package/deno"), std::string::npos) << done.error().message;
  EXPECT_FALSE(fs::exists(root_ / "store/bun/1.2.3"));
}

TEST_F(TempTree, hostile_versions_are_refused_before_any_path_is_built) {
  Installer installer({root_ / "store", root_ / "no-system", {}, true});
  const fs::path tgz = make_tarball("1.2.3");
  for (const char* v : {"../../escape", "1.2.3/x", "", ".hidden"}) {
    EXPECT_FALSE(installer.install_binary_tarball(fake_descriptor(), tgz, v).has_value()) << v;
  }
  EXPECT_FALSE(fs::exists(root_ / "escape"));
}

TEST_F(TempTree, commit_replaces_a_broken_install_and_keeps_a_valid_one) {
  const fs::path dest = root_ / "store/x/1.0.0";
  write(dest / "leftover", "half an install");
  write(root_ / "stage1/bin/x", "new", true);
  ASSERT_TRUE(commit_staged(root_ / "stage1", dest, [](const fs::path&) { return false; }).has_value());
  EXPECT_TRUE(fs::exists(dest / "bin/x"));
  EXPECT_FALSE(fs::exists(dest / "leftover"));
  // A valid install that appeared meanwhile (a concurrent install) wins.
  write(root_ / "stage2/bin/x", "other", true);
  ASSERT_TRUE(commit_staged(root_ / "stage2", dest, [](const fs::path&) { return true; }).has_value());
  std::ifstream in(dest / "bin/x");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  EXPECT_EQ(text, "new");
}

TEST_F(TempTree, system_runtimes_are_only_checked_and_missing_ones_say_how_to_get_them) {
  Installer installer({root_ / "store", root_ / "no-system", {}, true});
  auto go = installer.install(*find_descriptor("go"), "");
  ASSERT_FALSE(go.has_value());
  EXPECT_NE(go.error().message.find("apt-get install golang-go"), std::string::npos) << go.error().message;
}

TEST(QuickjsBootstrap, is_embedded_and_defines_process_and_console) {
  const std::string_view text = quickjs_bootstrap();
  EXPECT_NE(text.find("globalThis.process"), std::string_view::npos);
  EXPECT_NE(text.find("globalThis.console"), std::string_view::npos);
  EXPECT_NE(text.find("std.getenviron()"), std::string_view::npos);
}

}  // namespace
}  // namespace ignite::runtime
