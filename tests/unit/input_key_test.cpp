// Build-step keys cover every input the step can read, framed unambiguously (findings 4, 27).
#include <gtest/gtest.h>

#include <chrono>

#include "../common/temp_tree.hpp"
#include "engine/input_key.hpp"

namespace ignite::engine {
namespace {

namespace fs = std::filesystem;
using ignite::testing::TempTree;

std::string key_of(const fs::path& dir, FileHashMemo& memo) {
  KeyBuilder k("ts");
  EXPECT_TRUE(k.add_tree("app", dir, memo));
  return k.finish();
}

TEST(InputKey, node_modules_hidden_files_and_symlinks_are_part_of_the_key) {
  TempTree a("key-a-"), memo_dir("key-memo-");
  FileHashMemo memo(memo_dir.path() / "memo");
  a.write("index.ts", "import x from 'lib'; console.log(x)");
  a.write("node_modules/lib/index.js", "export default 1");
  const std::string before = key_of(a.path(), memo);
  a.write("node_modules/lib/index.js", "export default 2");
  const std::string after = key_of(a.path(), memo);
  EXPECT_NE(before, after);
  a.write(".hidden", "x");
  EXPECT_NE(after, key_of(a.path(), memo));
  const std::string with_hidden = key_of(a.path(), memo);
  fs::create_symlink("/node_modules/lib", a.path() / "link");
  const std::string with_link = key_of(a.path(), memo);
  EXPECT_NE(with_hidden, with_link);
  fs::remove(a.path() / "link");
  fs::create_symlink("/node_modules/other", a.path() / "link");
  EXPECT_NE(with_link, key_of(a.path(), memo));  // the link's target text counts
}

TEST(InputKey, fields_are_framed_so_shifting_bytes_between_them_changes_the_key) {
  KeyBuilder a("x"), b("x");
  a.add("entry", "ab").add("flags", "c");
  b.add("entry", "a").add("flags", "bc");
  EXPECT_NE(a.finish(), b.finish());
  KeyBuilder c("go"), d("ts");
  EXPECT_NE(c.finish(), d.finish());
}

TEST(InputKey, a_big_unchanged_file_is_read_once_then_known_by_its_stat_record) {
  TempTree t("key-big-"), memo_dir("key-memo-");
  t.write("data.bin", std::string(FileHashMemo::kMinSize + 10, 'a'));
  // Just written: not remembered with the default settle time (its timestamps may not move yet).
  FileHashMemo cautious(memo_dir.path() / "memo");
  const std::string first = key_of(t.path(), cautious);
  EXPECT_FALSE(fs::exists(memo_dir.path() / "memo"));
  FileHashMemo memo(memo_dir.path() / "memo", std::chrono::milliseconds(0));
  EXPECT_EQ(first, key_of(t.path(), memo));
  EXPECT_EQ(std::distance(fs::directory_iterator(memo_dir.path() / "memo"), fs::directory_iterator{}), 1);
  // A fresh memo (another process) reads the record instead of the file.
  FileHashMemo again(memo_dir.path() / "memo", std::chrono::milliseconds(0));
  EXPECT_EQ(first, key_of(t.path(), again));
  // Same size, mtime set back: ctime still moved, so the record no longer matches.
  const auto mtime = fs::last_write_time(t.path() / "data.bin");
  t.write("data.bin", std::string(FileHashMemo::kMinSize + 10, 'b'));
  fs::last_write_time(t.path() / "data.bin", mtime);
  EXPECT_NE(first, key_of(t.path(), again));
}

}  // namespace
}  // namespace ignite::engine
