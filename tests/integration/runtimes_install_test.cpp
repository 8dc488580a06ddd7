// `ignite runtimes install` for real: downloads from the npm registry into a temp store. Opt-in
// (IGNITE_TEST_NETWORK_INSTALL=1): scripts/install-deps has already installed the default set
// before `make test`, and the default test run must not download it again.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "runtime/catalog.hpp"
#include "runtime/installer.hpp"
#include "runtime/installer_process.hpp"

namespace ignite::runtime {
namespace {

namespace fs = std::filesystem;

class NetworkInstall : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* opt_in = std::getenv("IGNITE_TEST_NETWORK_INSTALL");
    if (opt_in == nullptr || std::string(opt_in) != "1") {
      GTEST_SKIP() << "downloads runtimes from the npm registry; set IGNITE_TEST_NETWORK_INSTALL=1 "
                      "to run it (scripts/install-deps already installed the default set)";
    }
    root_ = fs::temp_directory_path() / ("ignite-netinstall-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override {
    if (!root_.empty()) fs::remove_all(root_);
  }
  Installer installer() const { return Installer({root_ / "store", root_ / "no-system", {}, {}}); }
  Catalog catalog() const { return Catalog({root_ / "store", root_ / "no-system"}); }
  fs::path root_;
};

TEST_F(NetworkInstall, quickjs_is_built_from_the_qjsc_sources_with_its_bootstrap) {
  auto done = installer().install(*find_descriptor("quickjs"), "");
  ASSERT_TRUE(done.has_value()) << done.error().message;
  EXPECT_EQ(done->kind, InstallOutcome::Kind::installed);
  auto rt = catalog().resolve({"quickjs", ""});
  ASSERT_TRUE(rt.has_value()) << rt.error().message;
  const fs::path dir = root_ / "store/quickjs" / rt->version;
  ASSERT_TRUE(fs::exists(dir / "bootstrap.mjs"));

  // The installed pair runs a service-style module that reads its input from the environment.
  std::ofstream(root_ / "entry.js") << "const input = JSON.parse(process.env.IGNITE_INPUT);\n"
                                       "console.log({ sum: input.data.reduce((a, b) => a + b, 0) });\n";
  auto out = run_command({{rt->binary.string(), "--std", "-m", (dir / "bootstrap.mjs").string(),
                           (root_ / "entry.js").string()},
                          {}, {R"(IGNITE_INPUT={"data":[1,2,3]})"}, {}});
  ASSERT_TRUE(out.has_value()) << out.error().message;
  EXPECT_EQ(out->out, "{ sum: 6 }\n") << out->err;

  // A second install finds it and builds nothing.
  auto again = installer().install(*find_descriptor("quickjs"), "");
  ASSERT_TRUE(again.has_value()) << again.error().message;
  EXPECT_EQ(again->kind, InstallOutcome::Kind::already_present);
}

TEST_F(NetworkInstall, deno_comes_from_its_npm_package_and_a_second_install_keeps_it) {
  auto done = installer().install(*find_descriptor("deno"), "");
  ASSERT_TRUE(done.has_value()) << done.error().message;
  EXPECT_EQ(done->kind, InstallOutcome::Kind::installed);
  EXPECT_EQ(done->path, root_ / "store/deno" / done->version / "bin/deno");
  auto again = installer().install(*find_descriptor("deno"), done->version);
  ASSERT_TRUE(again.has_value()) << again.error().message;
  EXPECT_EQ(again->kind, InstallOutcome::Kind::already_present);
  EXPECT_TRUE(fs::is_empty(root_ / "store/.staging"));
}

TEST_F(NetworkInstall, a_version_that_does_not_exist_is_a_clear_error) {
  auto done = installer().install(*find_descriptor("node"), "99");
  ASSERT_FALSE(done.has_value());
  EXPECT_NE(done.error().message.find("no version of node matches '99'"), std::string::npos)
      << done.error().message;
  EXPECT_FALSE(fs::exists(root_ / "store/node"));
}

}  // namespace
}  // namespace ignite::runtime
