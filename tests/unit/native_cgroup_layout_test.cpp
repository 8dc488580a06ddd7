// Cgroup detection and per-run cgroups against fake /proc and /sys/fs/cgroup trees.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "sandbox/native/cgroup_layout.hpp"
#include "../common/temp_tree.hpp"

namespace ignite::sandbox::native {
namespace {

namespace fs = std::filesystem;

class FakeHost : public ::testing::Test {
 protected:
  void SetUp() override { fs::create_directories(root_ / "proc/self"); }
  void write(const fs::path& rel, const std::string& text) { tree_.write(rel, text); }
  std::string at(const std::string& rel) const { return (root_ / rel).string(); }
  testing::TempTree tree_{"ignite-cg-"};
  fs::path root_ = tree_.path();
};

TEST_F(FakeHost, v1_controllers_are_found_under_our_own_cgroup) {
  // This team's machines: v1 memory/pids/cpu/cpuacct and a v2 mount with no controllers.
  write("proc/self/mountinfo",
        "30 25 0:26 / " + at("cg/memory") + " rw,relatime shared:9 - cgroup cgroup rw,memory\n" +
        "31 25 0:27 / " + at("cg/pids") + " rw - cgroup cgroup rw,pids\n" +
        "32 25 0:28 / " + at("cg/cpu") + " rw - cgroup cgroup rw,cpu\n" +
        "33 25 0:29 / " + at("cg/cpuacct") + " rw - cgroup cgroup rw,cpuacct\n" +
        "34 25 0:30 / " + at("cg/unified") + " rw - cgroup2 cgroup2 rw\n");
  write("proc/self/cgroup", "4:memory:/jobs/abc\n8:pids:/\n1:cpu:/\n2:cpuacct:/\n0::/\n");
  write("cg/unified/cgroup.controllers", "hugetlb\n");
  auto layout = detect_cgroups(root_ / "proc");
  ASSERT_EQ(layout.version, CgroupVersion::v1) << layout.reason;
  EXPECT_EQ(layout.v1_base["memory"], root_ / "cg/memory/jobs/abc/ignite");
  EXPECT_EQ(layout.v1_base["pids"], root_ / "cg/pids/ignite");
  EXPECT_EQ(layout.describe(), "cgroup v1 (cpu, cpuacct, memory, pids)");
}

TEST_F(FakeHost, v2_is_preferred_when_it_offers_memory_and_pids) {
  write("proc/self/mountinfo",
        "30 25 0:26 / " + at("cg") + " rw - cgroup2 cgroup2 rw,nsdelegate\n" +
        "31 25 0:27 / " + at("v1mem") + " rw - cgroup cgroup rw,memory\n");
  write("proc/self/cgroup", "0::/system.slice/ignite.service\n4:memory:/\n");
  write("cg/system.slice/ignite.service/cgroup.controllers", "cpu io memory pids\n");
  auto layout = detect_cgroups(root_ / "proc");
  ASSERT_EQ(layout.version, CgroupVersion::v2) << layout.reason;
  EXPECT_EQ(layout.v2_base, root_ / "cg/system.slice/ignite.service");
}

TEST_F(FakeHost, no_usable_hierarchy_says_why) {
  write("proc/self/mountinfo", "30 25 0:26 / " + at("cg") + " rw - cgroup2 cgroup2 rw\n");
  write("proc/self/cgroup", "0::/\n");
  write("cg/cgroup.controllers", "cpu\n");
  auto layout = detect_cgroups(root_ / "proc");
  EXPECT_EQ(layout.version, CgroupVersion::none);
  EXPECT_NE(layout.describe().find("is not given the memory and pids controllers"), std::string::npos)
      << layout.describe();
  write("cg/cgroup.controllers", "cpu pids\n");
  EXPECT_NE(detect_cgroups(root_ / "proc").describe().find("is not given the memory controller"),
            std::string::npos);
}

TEST_F(FakeHost, v2_in_the_supervisor_leaf_we_moved_into_means_the_cgroup_above_it) {
  write("proc/self/mountinfo", "30 25 0:26 / " + at("cg") + " rw - cgroup2 cgroup2 rw\n");
  write("proc/self/cgroup", "0::/system.slice/ignite.service/supervisor\n");
  write("cg/system.slice/ignite.service/cgroup.controllers", "cpu memory pids\n");
  write("cg/system.slice/ignite.service/supervisor/cgroup.controllers", "");
  // No per-run parent next to it: a cgroup that merely happens to be called "supervisor".
  EXPECT_EQ(detect_cgroups(root_ / "proc").version, CgroupVersion::none);
  fs::create_directories(root_ / "cg/system.slice/ignite.service/ignite");
  auto layout = detect_cgroups(root_ / "proc");
  ASSERT_EQ(layout.version, CgroupVersion::v2) << layout.reason;
  EXPECT_EQ(layout.v2_base, root_ / "cg/system.slice/ignite.service");
}

}  // namespace
}  // namespace ignite::sandbox::native
