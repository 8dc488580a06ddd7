// read_manifest: how install steps (npm/bun, pip) read package.json, lock files and
// requirements.txt from a service dir: plain files only, bounded, errors without host paths.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "engine/step_specs.hpp"
#include "sys/temp_dir.hpp"

namespace ignite::engine {
namespace {

namespace fs = std::filesystem;

class Manifest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto made = sys::TempDir::create(fs::temp_directory_path(), "manifest-test");
    ASSERT_TRUE(made) << made.error().message;
    dir_.emplace(std::move(*made));
  }
  fs::path dir() const { return dir_->path(); }
  void write(const std::string& name, const std::string& text) { std::ofstream(dir() / name) << text; }
  std::optional<sys::TempDir> dir_;
};

TEST_F(Manifest, a_plain_file_is_read_and_a_missing_one_is_none) {
  write("requirements.txt", "six==1.16.0\n");
  auto read = read_manifest(dir(), "requirements.txt", 1024);
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(read->value_or("none"), "six==1.16.0\n");
  auto missing = read_manifest(dir(), "package.json", 1024);
  ASSERT_TRUE(missing);
  EXPECT_FALSE(missing->has_value());
}

TEST_F(Manifest, a_link_a_fifo_and_an_oversized_file_are_refused_naming_only_the_file) {
  fs::create_symlink("/proc/self/environ", dir() / "package-lock.json");
  auto linked = read_manifest(dir(), "package-lock.json", 1024);
  ASSERT_FALSE(linked);
  EXPECT_EQ(linked.error().message, "package-lock.json is a symbolic link: install steps read only regular files");
  ASSERT_EQ(::mkfifo((dir() / "package.json").c_str(), 0600), 0);  // never blocks on it
  write("requirements.txt", std::string(2048, 'x'));
  for (const char* name : {"package.json", "requirements.txt"}) {
    auto read = read_manifest(dir(), name, 1024);
    ASSERT_FALSE(read) << name;
    EXPECT_EQ(read.error().code, ErrorCode::invalid_argument);
    EXPECT_EQ(read.error().message, std::string(name) + " must be a regular file of at most 1024 bytes");
    EXPECT_EQ(read.error().message.find(dir().string()), std::string::npos);
  }
  // A dangling link too: it exists as a link, so it is refused rather than skipped.
  fs::create_symlink(dir() / "nowhere", dir() / "bun.lock");
  EXPECT_FALSE(read_manifest(dir(), "bun.lock", 1024));
}

}  // namespace
}  // namespace ignite::engine
