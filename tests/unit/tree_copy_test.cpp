// Trees that leave a sandbox (sys/tree.hpp): copied as plain read-only data, nothing followed,
// special files and oversized trees refused (finding 1).
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "../common/temp_tree.hpp"
#include "sys/fd.hpp"
#include "sys/tree.hpp"

namespace ignite::sys {
namespace {

namespace fs = std::filesystem;
using ignite::testing::TempTree;

mode_t mode_of(const fs::path& p) {
  struct stat st {};
  ::lstat(p.c_str(), &st);
  return st.st_mode;
}

Result<FileTree> copy_out(const fs::path& from, const fs::path& to, TreeLimits limits = {}) {
  Fd src(::open(from.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  fs::create_directory(to);
  return copy_tree_out(src.get(), to, limits);
}

TEST(TreeCopy, copies_are_read_only_without_special_bits_and_links_stay_links) {
  TempTree src("tree-src-"), dst("tree-dst-");
  src.write("bin/tool", "#!/bin/sh\n");
  ::chmod((src.path() / "bin/tool").c_str(), 06755);  // setuid + setgid, as a hostile step left it
  src.write("lib/data.txt", "hello");
  fs::create_symlink("/etc/shadow", src.path() / "lib/escape");
  auto tree = copy_out(src.path(), dst.path() / "out");
  ASSERT_TRUE(tree) << tree.error().message;
  const fs::path out = dst.path() / "out";
  EXPECT_EQ(mode_of(out / "bin/tool") & 07777, 0555u);
  EXPECT_EQ(mode_of(out / "lib/data.txt") & 07777, 0444u);
  EXPECT_EQ(mode_of(out / "lib") & 07777, 0555u);
  EXPECT_TRUE(S_ISLNK(mode_of(out / "lib/escape")));
  EXPECT_EQ(fs::read_symlink(out / "lib/escape"), "/etc/shadow");
  EXPECT_EQ(tree->bytes, 15u);
  ASSERT_EQ(tree->entries.size(), 5u);
  EXPECT_EQ(tree->entries[0].path, "bin");
  EXPECT_EQ(tree->entries[1].path, "bin/tool");
  EXPECT_TRUE(tree->entries[1].executable);
  // The scan of the copy finds exactly what the copy reported.
  auto scanned = scan_tree(out, {});
  ASSERT_TRUE(scanned);
  EXPECT_EQ(scanned->entries, tree->entries);
  EXPECT_TRUE(remove_tree(dst.path() / "out"));
}

TEST(TreeCopy, a_fifo_is_refused_by_name) {
  TempTree src("tree-src-"), dst("tree-dst-");
  ASSERT_EQ(::mkfifo((src.path() / "pipe").c_str(), 0644), 0);
  auto tree = copy_out(src.path(), dst.path() / "out");
  ASSERT_FALSE(tree);
  EXPECT_EQ(tree.error().message, "pipe: is a FIFO (only files, directories and symlinks are allowed)");
}

TEST(TreeCopy, size_entry_and_depth_bounds_hold) {
  TempTree src("tree-src-"), dst("tree-dst-");
  src.write("big", std::string(1000, 'x'));
  EXPECT_FALSE(copy_out(src.path(), dst.path() / "a", {999, 100, 8}));
  EXPECT_TRUE(copy_out(src.path(), dst.path() / "b", {1000, 100, 8}));
  fs::path deep = src.path();
  for (int i = 0; i < 10; ++i) deep /= "d";
  fs::create_directories(deep);
  auto r = copy_out(src.path(), dst.path() / "c", {1 << 20, 100, 8});
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("nested deeper than 8"), std::string::npos) << r.error().message;
  EXPECT_FALSE(copy_out(src.path(), dst.path() / "d", {1 << 20, 5, 64}));  // 11 entries > 5
}

TEST(TreeCopy, the_stat_signature_changes_when_content_or_mode_does) {
  TempTree t("tree-sig-");
  t.write("f", "one");
  auto a = stat_signature(t.path(), {});
  auto b = stat_signature(t.path(), {});
  ASSERT_TRUE(a && b);
  EXPECT_EQ(*a, *b);
  t.write("f", "two");
  auto c = stat_signature(t.path(), {});
  EXPECT_NE(*a, *c);
  ::chmod((t.path() / "f").c_str(), 0600);
  EXPECT_NE(*c, *stat_signature(t.path(), {}));
}

}  // namespace
}  // namespace ignite::sys
