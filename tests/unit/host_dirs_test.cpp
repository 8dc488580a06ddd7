// The host dirs Ignite keeps: owned-dir checks (finding 5) and instance registration with
// collection of what dead instances left (finding 10).
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "../common/temp_tree.hpp"
#include "sys/fd.hpp"
#include "sys/instance.hpp"
#include "sys/owned_dir.hpp"

namespace ignite::sys {
namespace {

namespace fs = std::filesystem;
using ignite::testing::TempTree;

TEST(OwnedDir, creates_missing_components_with_the_mode_asked_for) {
  TempTree t("ownd-");
  const fs::path dir = t.path() / "a/b/c";
  ASSERT_TRUE(ensure_owned_dir(dir, 0700));
  struct stat st {};
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  EXPECT_EQ(st.st_uid, ::geteuid());
  EXPECT_TRUE(ensure_owned_dir(dir, 0700));  // idempotent
}

TEST(OwnedDir, refuses_a_dir_writable_by_others) {
  TempTree t("ownd-");
  const fs::path dir = t.path() / "shared";
  fs::create_directory(dir);
  ::chmod(dir.c_str(), 0777);
  auto r = ensure_owned_dir(dir, 0700);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::permission_denied);
  EXPECT_NE(r.error().message.find("writable by group or others"), std::string::npos) << r.error().message;
}

TEST(OwnedDir, refuses_to_go_through_a_non_sticky_world_writable_parent) {
  TempTree t("ownd-");
  const fs::path open = t.path() / "open";
  fs::create_directory(open);
  ::chmod(open.c_str(), 0777);
  EXPECT_FALSE(ensure_owned_dir(open / "mine", 0700));
  ::chmod(open.c_str(), 01777);  // sticky, like /tmp: fine
  EXPECT_TRUE(ensure_owned_dir(open / "mine", 0700));
}

TEST(OwnedDir, refuses_a_dir_or_symlink_another_user_planted) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to create files owned by another user";
  TempTree t("ownd-");
  ::chmod(t.path().c_str(), 01777);
  const fs::path planted = t.path() / "ignite-1000";
  fs::create_directory(planted);
  ASSERT_EQ(::chown(planted.c_str(), 12345, 12345), 0);
  auto r = ensure_owned_dir(planted, 0700);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("owned by uid 12345"), std::string::npos) << r.error().message;

  const fs::path link = t.path() / "ignite-link";
  fs::create_directory_symlink(t.path(), link);
  ASSERT_EQ(::lchown(link.c_str(), 12345, 12345), 0);
  r = ensure_owned_dir(link / "x", 0700);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("symlink owned by uid 12345"), std::string::npos) << r.error().message;
}

TEST(Instance, is_live_while_it_exists_and_its_dir_goes_with_it) {
  TempTree t("inst-");
  fs::path dir;
  std::string id;
  {
    auto inst = Instance::create(t.path() / "run");
    ASSERT_TRUE(inst) << inst.error().message;
    id = inst->id();
    dir = inst->dir();
    EXPECT_TRUE(fs::is_directory(dir));
    EXPECT_TRUE(Instance::is_live(t.path() / "run", id));
    EXPECT_EQ(Instance::id_of(inst->tag("run-abc")), id);
  }
  EXPECT_FALSE(fs::exists(dir));
  EXPECT_FALSE(Instance::is_live(t.path() / "run", id));
  EXPECT_EQ(Instance::id_of("run-abc"), "");  // an untagged name belongs to nobody
}

TEST(Instance, a_new_instance_collects_the_dirs_of_dead_ones_but_not_of_live_ones) {
  TempTree t("inst-");
  const fs::path root = t.path() / "run";
  auto live = Instance::create(root);
  ASSERT_TRUE(live);
  // A killed instance: its dir and lock file are there, nobody holds the lock.
  const fs::path dead = root / "instances/i999-deadbeef";
  fs::create_directories(dead / "run-x/root");
  { Fd lock(::open((dead / "lock").c_str(), O_CREAT | O_RDWR, 0600)); }
  EXPECT_FALSE(Instance::is_live(root, "i999-deadbeef"));

  auto next = Instance::create(root);
  ASSERT_TRUE(next);
  EXPECT_EQ(next->collected(), std::vector<std::string>{"i999-deadbeef"});
  EXPECT_FALSE(fs::exists(dead));
  EXPECT_TRUE(fs::exists(live->dir()));  // a live instance's dir is never touched
  EXPECT_TRUE(Instance::is_live(root, live->id()));
}

}  // namespace
}  // namespace ignite::sys
