// The host's runtime dir in memory (sys/runtime_memory.hpp): a tmpfs is mounted over it when it
// is on a disk, once, and never over a dir a live instance uses.
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "sys/fd.hpp"
#include "sys/instance.hpp"
#include "sys/runtime_memory.hpp"
#include "sys/temp_dir.hpp"

namespace ignite::sys {
namespace {

namespace fs = std::filesystem;
using Placement = Instance::Placement;

bool dir_on_tmpfs(const fs::path& p) {
  const Fd fd(::open(p.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  return fd && on_tmpfs(fd.get());
}

// How many mounts have `p` as their mount point.
int mounts_at(const fs::path& p) {
  std::ifstream in("/proc/self/mountinfo");
  int n = 0;
  for (std::string line; std::getline(in, line);) {
    std::size_t a = 0;
    for (int field = 0; field < 4 && a != std::string::npos; ++field) a = line.find(' ', a + 1);
    if (a == std::string::npos) continue;
    const std::size_t b = line.find(' ', a + 1);
    if (line.substr(a + 1, b - a - 1) == p.string()) ++n;
  }
  return n;
}

// A runtime dir on a disk (the temp dir, else /var/tmp), unmounted and removed at the end.
class RuntimeMemory : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "mounting a tmpfs needs root";
    for (const fs::path& base : {fs::temp_directory_path(), fs::path("/var/tmp")}) {
      if (dir_on_tmpfs(base)) continue;
      auto dir = TempDir::create(base, "rtmem-");
      ASSERT_TRUE(dir) << dir.error().message;
      dir_.emplace(std::move(dir).value());
      root_ = dir_->path() / "run";
      ASSERT_EQ(::mkdir(root_.c_str(), 0700), 0);
      return;
    }
    GTEST_SKIP() << "no disk-backed temp dir here (" << fs::temp_directory_path() << " and /var/tmp are tmpfs)";
  }
  void TearDown() override {
    if (!root_.empty())
      while (::umount2(root_.c_str(), MNT_DETACH) == 0) {
      }
  }
  std::optional<TempDir> dir_;
  fs::path root_;
};

TEST_F(RuntimeMemory, an_unused_runtime_dir_on_a_disk_is_mounted_over_once) {
  ASSERT_FALSE(dir_on_tmpfs(root_));
  {
    auto first = Instance::create(root_, Placement::in_memory);
    ASSERT_TRUE(first) << first.error().message;
    EXPECT_TRUE(dir_on_tmpfs(root_));
    EXPECT_TRUE(dir_on_tmpfs(first->dir()));
    EXPECT_TRUE(Instance::is_live(root_, first->id()));
    struct stat st {};
    ASSERT_EQ(::stat(root_.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0700u);  // as private as the dir it covers
    EXPECT_EQ(st.st_uid, 0u);
    auto second = Instance::create(root_, Placement::in_memory);
    ASSERT_TRUE(second) << second.error().message;
    EXPECT_TRUE(Instance::is_live(root_, second->id()));
  }
  EXPECT_EQ(mounts_at(root_), 1);  // the tmpfs stays for the next instance; never stacked
}

TEST_F(RuntimeMemory, a_dir_a_live_instance_uses_stays_on_its_disk) {
  auto live = Instance::create(root_);  // registered on the disk
  ASSERT_TRUE(live) << live.error().message;
  auto next = Instance::create(root_, Placement::in_memory);
  ASSERT_TRUE(next) << next.error().message;
  EXPECT_FALSE(dir_on_tmpfs(root_));
  EXPECT_EQ(mounts_at(root_), 0);
  // Both are registered in one place: each sees the other.
  EXPECT_TRUE(Instance::is_live(root_, live->id()));
  EXPECT_TRUE(Instance::is_live(root_, next->id()));
}

TEST_F(RuntimeMemory, anything_but_id_locks_and_instances_keeps_it_on_its_disk) {
  std::ofstream(root_ / "left-by-someone") << "x";
  auto inst = Instance::create(root_, Placement::in_memory);
  ASSERT_TRUE(inst) << inst.error().message;
  EXPECT_FALSE(dir_on_tmpfs(root_));
  EXPECT_TRUE(fs::exists(root_ / "left-by-someone"));  // not hidden under a mount
}

TEST_F(RuntimeMemory, a_user_dir_is_left_as_it_is) {
  auto inst = Instance::create(root_);
  ASSERT_TRUE(inst) << inst.error().message;
  EXPECT_FALSE(dir_on_tmpfs(root_));
}

// Instances starting together over `root`: one mount, and every instance registered where the
// others look.
void start_together(const fs::path& root) {
  constexpr int kProcs = 8;
  // ready: each child says it is there, then how it ended up; go and leave: one byte each.
  int ready[2], go[2], leave[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(go), 0);
  ASSERT_EQ(::pipe(leave), 0);
  std::vector<pid_t> pids;
  for (int i = 0; i < kProcs; ++i) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      char c;
      (void)!::write(ready[1], "r", 1);
      if (::read(go[0], &c, 1) != 1) ::_exit(3);
      auto inst = Instance::create(root, Placement::in_memory);
      if (!inst) {
        std::fprintf(stderr, "instance: %s\n", inst.error().message.c_str());
        (void)!::write(ready[1], "e", 1);
        ::_exit(1);
      }
      // Stay registered until told to go, then report whether ours is in memory.
      const bool mem = dir_on_tmpfs(inst->dir());
      (void)!::write(ready[1], mem ? "m" : "d", 1);
      if (::read(leave[0], &c, 1) != 1) ::_exit(3);
      ::_exit(mem ? 0 : 2);
    }
    pids.push_back(pid);
  }
  char c;
  for (int i = 0; i < kProcs; ++i) ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ASSERT_EQ(::write(go[1], std::string(kProcs, 'g').data(), kProcs), kProcs);
  for (int i = 0; i < kProcs; ++i) ASSERT_EQ(::read(ready[0], &c, 1), 1);
  // All registered and alive now: every one of them is listed in the tmpfs.
  int listed = 0;
  for (const auto& e : fs::directory_iterator(root / "instances")) listed += Instance::is_live(root, e.path().filename().string());
  EXPECT_EQ(listed, kProcs);
  ASSERT_EQ(::write(leave[1], std::string(kProcs, 'l').data(), kProcs), kProcs);
  for (pid_t pid : pids) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "status " << status;
  }
  EXPECT_EQ(mounts_at(root), 1);
  for (int fd : {ready[0], ready[1], go[0], go[1], leave[0], leave[1]}) ::close(fd);
}

// The race is lost only now and then without the lock (2 runs in 5 with one round): ten rounds.
TEST_F(RuntimeMemory, instances_starting_together_mount_once_and_all_register_in_memory) {
  for (int round = 0; round < 10; ++round) {
    const fs::path root = dir_->path() / ("round-" + std::to_string(round));
    ASSERT_EQ(::mkdir(root.c_str(), 0700), 0);
    start_together(root);
    while (::umount2(root.c_str(), MNT_DETACH) == 0) {
    }
    if (::testing::Test::HasFailure()) return;
  }
}

}  // namespace
}  // namespace ignite::sys
