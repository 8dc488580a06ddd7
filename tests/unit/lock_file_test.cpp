// ignite.lock: hashing the manifest files and detecting drift.
#include "cli/lock_file.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "sys/files.hpp"
#include "../common/temp_tree.hpp"

namespace ignite::cli {
namespace {

namespace fs = std::filesystem;

const std::string kDigestA = "sha256:" + std::string(64, 'a');
const std::string kDigestB = "sha256:" + std::string(64, 'b');
const std::string kDigestC = "sha256:" + std::string(64, 'c');

// A fake digest that is the file's content: equal content gives an equal digest.
Result<std::string> fake_hash(const fs::path& path) {
  IGNITE_TRY_ASSIGN(std::string text, sys::read_file(path));
  return "fake:" + text;
}

class LockDirTest : public ::testing::Test {
 protected:
  void write(const std::string& name, const std::string& text) { tree_.write(name, text); }
  testing::TempTree tree_{"ignite-lock-"};
  fs::path dir_ = tree_.path();
};

TEST_F(LockDirTest, ComputesOnlyPresentLockableFiles) {
  write("service.yaml", "service: {}\n");
  write("package.json", "{}");
  write("bun.lock", "lock");
  write("index.ts", "ignored");
  write("random.lock", "ignored");
  auto files = compute_lock(dir_, fake_hash);
  ASSERT_TRUE(files) << files.error().message;
  EXPECT_EQ(*files, (LockMap{{"bun.lock", "fake:lock"},
                             {"package.json", "fake:{}"},
                             {"service.yaml", "fake:service: {}\n"}}));
}

TEST_F(LockDirTest, RefusesSymlinkedFilesAndPropagatesHashErrors) {
  write("service.yaml", "x");
  fs::create_symlink("/etc/hostname", dir_ / "package.json");
  auto files = compute_lock(dir_, fake_hash);
  ASSERT_FALSE(files);
  EXPECT_EQ(files.error().code, ErrorCode::invalid_argument);
  EXPECT_NE(files.error().message.find("package.json"), std::string::npos);

  fs::remove(dir_ / "package.json");
  auto failing = [](const fs::path&) -> Result<std::string> {
    return fail(ErrorCode::internal, "boom");
  };
  auto broken = compute_lock(dir_, failing);
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().message, "boom");
}

TEST(LockableFiles, CoverManifestsAndEveryLockfile) {
  const std::vector<std::string> names = lockable_files();
  for (const char* expected : {"service.yaml", "package.json", "package-lock.json", "bun.lockb",
                               "bun.lock", "yarn.lock", "pnpm-lock.yaml", "deno.lock"}) {
    EXPECT_NE(std::find(names.begin(), names.end(), expected), names.end()) << expected;
  }
}

TEST(LockText, RoundTrips) {
  const LockMap files = {{"package.json", kDigestA}, {"service.yaml", kDigestB}};
  const std::string text = render_lock(files);
  EXPECT_TRUE(text.ends_with("}\n"));
  EXPECT_NE(text.find("\"version\": 1"), std::string::npos);
  auto parsed = parse_lock(text);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(*parsed, files);
}

TEST(LockText, RejectsMalformedInput) {
  EXPECT_FALSE(parse_lock("not json"));
  EXPECT_FALSE(parse_lock("[]"));
  EXPECT_FALSE(parse_lock(R"({"files":{}})"));
  EXPECT_FALSE(parse_lock(R"({"version":2,"files":{}})"));
  EXPECT_FALSE(parse_lock(R"({"version":1,"files":[]})"));
  EXPECT_FALSE(parse_lock(R"({"version":1,"files":{"a":"md5:00"}})"));
  EXPECT_FALSE(parse_lock(R"({"version":1,"files":{"a":"sha256:XYZ"}})"));
  auto empty = parse_lock(R"({"version":1,"files":{}})");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
}

TEST(LockDiff, NoDriftWhenEqual) {
  const LockMap m = {{"package.json", kDigestA}};
  EXPECT_TRUE(diff_lock(m, m).empty());
  EXPECT_EQ(describe(diff_lock(m, m)), "");
}

TEST(LockDiff, ReportsChangedAddedRemoved) {
  const LockMap recorded = {
      {"package.json", kDigestA}, {"service.yaml", kDigestB}, {"yarn.lock", kDigestC}};
  const LockMap current = {
      {"package.json", kDigestB}, {"service.yaml", kDigestB}, {"bun.lock", kDigestC}};
  const LockDrift drift = diff_lock(recorded, current);
  EXPECT_EQ(drift.changed, std::vector<std::string>{"package.json"});
  EXPECT_EQ(drift.added, std::vector<std::string>{"bun.lock"});
  EXPECT_EQ(drift.removed, std::vector<std::string>{"yarn.lock"});
  EXPECT_EQ(describe(drift), "drift: package.json changed, bun.lock added, yarn.lock removed");
}

TEST(LockDiff, SingleChangeMessage) {
  const LockDrift drift = diff_lock({{"package.json", kDigestA}}, {{"package.json", kDigestB}});
  EXPECT_EQ(describe(drift), "drift: package.json changed");
}

}  // namespace
}  // namespace ignite::cli
