// The release artefact (issue 17): `scripts/make-dist` packs the build into a tarball with its
// checksum; `scripts/install.sh` verifies and installs it into a prefix, where the installed
// `ignite doctor` and `ignite run` of the packed seed example work; installing again changes
// nothing; a tampered tarball installs nothing; --uninstall leaves no file behind.
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "cli_helpers.hpp"
#include "server_helpers.hpp"
#include "sys/temp_dir.hpp"

namespace ignite::testing {
namespace {

namespace fs = std::filesystem;

using Shell = ShellResult;
Shell shell(const std::string& command) { return run_shell(command); }

std::string quoted(const fs::path& p) { return sh_quote(p.string()); }

std::vector<std::string> files_under(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); it != fs::recursive_directory_iterator(); ++it)
    if (!it->is_directory()) out.push_back(fs::relative(it->path(), dir).string());
  std::sort(out.begin(), out.end());
  return out;
}

class Dist : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root (the installed ignite runs the seed in its sandbox)";
    auto dir = sys::TempDir::create(fs::temp_directory_path(), "ignite-dist-test-");
    ASSERT_TRUE(dir);
    dir_.emplace(std::move(*dir));
    ::chmod(dir_->path().c_str(), 0755);
    const fs::path build = fs::path(IGNITE_BIN).parent_path().parent_path().parent_path();
    const Shell made = shell("IGNITE_BUILD_DIR=" + quoted(build) + " " + quoted(fs::path(IGNITE_SOURCE_DIR) / "scripts/make-dist") +
                             " " + quoted(out()));
    ASSERT_EQ(made.status, 0) << made.out;
    for (const auto& e : fs::directory_iterator(out()))
      if (e.path().extension() == ".gz") tarball_ = e.path();
    ASSERT_FALSE(tarball_.empty()) << made.out;
  }
  fs::path out() const { return dir_->path() / "dist"; }
  Shell install(const fs::path& prefix, const fs::path& tarball, const std::string& flags = "") const {
    return shell(quoted(fs::path(IGNITE_SOURCE_DIR) / "scripts/install.sh") + " --prefix " + quoted(prefix) + " " + flags +
                 " " + quoted(tarball));
  }
  fs::path tarball_;
  std::optional<sys::TempDir> dir_;
};

TEST_F(Dist, the_tarball_installs_into_a_prefix_and_the_installed_ignite_runs_the_seed) {
  EXPECT_NE(tarball_.filename().string().find("ignite-"), std::string::npos);
  EXPECT_NE(tarball_.filename().string().find("-linux-"), std::string::npos);
  const fs::path prefix = dir_->path() / "prefix";
  const Shell first = install(prefix, tarball_);
  ASSERT_EQ(first.status, 0) << first.out;
  EXPECT_NE(first.out.find("installed in " + prefix.string()), std::string::npos) << first.out;
  EXPECT_NE(first.out.find("isolation level for `ignite run`"), std::string::npos) << "doctor ran:\n" << first.out;
  for (const char* f : {"bin/ignite", "bin/ignite-warm-exec", "bin/ignite-docker-init", "share/doc/ignite/cli.txt",
                        "share/ignite/examples/data-processor/service.yaml", "share/licenses/ignite/libseccomp2"})
    EXPECT_TRUE(fs::exists(prefix / f)) << f;

  const Shell doctor = shell(quoted(prefix / "bin/ignite") + " doctor");
  EXPECT_NE(doctor.out.find("seccomp"), std::string::npos) << doctor.out;
  const Shell seed = shell(quoted(prefix / "bin/ignite") + " run " + quoted(prefix / "share/ignite/examples/data-processor") +
                           " --input '{\"data\":[1,2,3],\"operation\":\"sum\"}'");
  EXPECT_EQ(seed.status, 0) << seed.out;
  EXPECT_NE(seed.out.find("\"result\":6"), std::string::npos) << seed.out;

  // Again: the same files, nothing added or lost.
  const auto before = files_under(prefix);
  const Shell again = install(prefix, tarball_, "--no-doctor");
  ASSERT_EQ(again.status, 0) << again.out;
  EXPECT_EQ(files_under(prefix), before);

  const Shell removed = shell(quoted(fs::path(IGNITE_SOURCE_DIR) / "scripts/install.sh") + " --uninstall --prefix " + quoted(prefix));
  ASSERT_EQ(removed.status, 0) << removed.out;
  EXPECT_EQ(files_under(prefix), std::vector<std::string>{}) << "uninstall left files";
}

TEST_F(Dist, a_tarball_that_does_not_match_its_checksum_installs_nothing) {
  const fs::path tampered = dir_->path() / tarball_.filename();
  fs::copy_file(tarball_, tampered);
  fs::copy_file(tarball_.string() + ".sha256", tampered.string() + ".sha256");
  std::ofstream(tampered, std::ios::app) << '\0';
  const fs::path prefix = dir_->path() / "tampered";
  const Shell r = install(prefix, tampered);
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("checksum mismatch"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(prefix));

  fs::remove(tampered.string() + ".sha256");
  const Shell unsigned_ = install(prefix, tampered);
  EXPECT_NE(unsigned_.status, 0);
  EXPECT_NE(unsigned_.out.find(".sha256 is missing"), std::string::npos) << unsigned_.out;
  EXPECT_FALSE(fs::exists(prefix));
}

}  // namespace
}  // namespace ignite::testing
