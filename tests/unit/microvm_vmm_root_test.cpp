// The jailed VMM's root as data (vmm_root.hpp), planned against a host tree of the test's own:
// what is given (the program dirs, the loader's cache, devices, its VM's dir) and what is not.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "sandbox/microvm/vmm_root.hpp"

namespace ignite::sandbox::microvm {
namespace {

namespace fs = std::filesystem;
using Kind = RootStep::Kind;

class VmmRootPlan : public ::testing::Test {
 protected:
  void SetUp() override {
    host_ = fs::temp_directory_path() / ("ignite-vmm-root-" + std::to_string(::getpid()));
    for (const char* d : {"usr/bin", "usr/lib", "etc", "run", "home/me", "dev", "opt/fc"}) fs::create_directories(host_ / d);
    fs::create_directory_symlink("usr/bin", host_ / "bin");
    fs::create_directory_symlink("usr/lib", host_ / "lib");
    for (const char* f : {"usr/bin/qemu", "etc/ld.so.cache", "etc/shadow", "etc/passwd", "run/resolv.conf", "dev/null",
                          "dev/urandom", "dev/kvm", "opt/fc/firecracker"})
      std::ofstream(host_ / f) << "x";
    fs::create_symlink("../run/resolv.conf", host_ / "etc/resolv.conf");
  }
  void TearDown() override { fs::remove_all(host_); }

  static bool has(const VmmRoot& r, Kind kind, const std::string& target, const std::string& source = "*") {
    return std::any_of(r.steps.begin(), r.steps.end(), [&](const RootStep& s) {
      return s.kind == kind && s.target == r.root + target && (source == "*" || s.source == source);
    });
  }
  // Whether a step names `part`, in its target under the root or its source in the host tree
  // (not in the tree's own path, which may hold "home" or "opt").
  bool names(const VmmRoot& r, const std::string& part) const {
    const auto rest = [](const std::string& path, const std::string& prefix) {
      return path.rfind(prefix, 0) == 0 ? path.substr(prefix.size()) : path;
    };
    return std::any_of(r.steps.begin(), r.steps.end(), [&](const RootStep& s) {
      return rest(s.target, r.root).find(part) != std::string::npos ||
             rest(s.source, host_.string()).find(part) != std::string::npos;
    });
  }

  fs::path host_;
};

TEST_F(VmmRootPlan, the_program_dirs_its_dir_and_devices_are_given_and_nothing_else_of_the_host) {
  const VmmRoot r = plan_vmm_root("/srv/inst/microvm-1", {"/usr/bin/qemu", "/srv/inst/microvm-1/share", false}, host_);
  EXPECT_EQ(r.root, "/srv/inst/microvm-1/root");
  EXPECT_EQ(r.vm_dir, "/srv/inst/microvm-1");
  EXPECT_TRUE(has(r, Kind::bind_ro, "/usr", (host_ / "usr").string()));
  EXPECT_TRUE(has(r, Kind::link, "/bin", "usr/bin"));  // merged /usr: the links as they are
  EXPECT_TRUE(has(r, Kind::link, "/lib", "usr/lib"));
  EXPECT_TRUE(has(r, Kind::bind_ro, "/etc/ld.so.cache"));
  EXPECT_TRUE(has(r, Kind::bind_dev, "/dev/null"));
  EXPECT_TRUE(has(r, Kind::bind_dev, "/dev/urandom"));
  EXPECT_FALSE(names(r, "/dev/zero")) << "not on this host: not planned";
  EXPECT_TRUE(has(r, Kind::proc, "/proc"));
  EXPECT_TRUE(has(r, Kind::bind_vm_dir, "/srv/inst/microvm-1", "/srv/inst/microvm-1"));
  EXPECT_TRUE(has(r, Kind::bind_ro, "/srv/inst/microvm-1/share"));
  // The VM dir's share comes after the dir itself (it is mounted in it).
  const auto at = [&](Kind k) {
    return std::find_if(r.steps.begin(), r.steps.end(), [&](const RootStep& s) { return s.kind == k; }) - r.steps.begin();
  };
  EXPECT_LT(at(Kind::bind_vm_dir), static_cast<long>(r.steps.size()) - 1);
  EXPECT_EQ(r.steps.back().target, r.root + "/srv/inst/microvm-1/share");
  for (const char* never : {"shadow", "passwd", "home", "resolv.conf", "kvm", "opt", "/run"})
    EXPECT_FALSE(names(r, never)) << never;
  // Every target is under the new root.
  for (const auto& s : r.steps) EXPECT_EQ(s.target.rfind(r.root + "/", 0), 0u) << s.target;
}

TEST_F(VmmRootPlan, kvm_gets_its_device_and_no_vmm_the_hosts_resolver) {
  const VmmRoot r = plan_vmm_root("/srv/vm", {"/usr/bin/qemu", {}, true}, host_);
  EXPECT_TRUE(has(r, Kind::bind_dev, "/dev/kvm"));
  EXPECT_FALSE(names(r, "resolv.conf")) << "a VM's network is passt's, outside the VMM";
  EXPECT_FALSE(names(r, "/srv/vm/share")) << "no share: none bound";
}

TEST_F(VmmRootPlan, a_vmm_binary_outside_the_program_dirs_is_given_as_its_real_file) {
  const VmmRoot r = plan_vmm_root("/srv/vm", {"/opt/fc/firecracker", {}, true}, host_);
  EXPECT_TRUE(has(r, Kind::bind_ro, "/opt/fc/firecracker", (host_ / "opt/fc/firecracker").string()));
  EXPECT_TRUE(has(r, Kind::file, "/opt/fc/firecracker"));
  const VmmRoot q = plan_vmm_root("/srv/vm", {"/usr/bin/qemu", {}, false}, host_);
  EXPECT_FALSE(has(q, Kind::bind_ro, "/usr/bin/qemu")) << "inside /usr: given with it";
  // Named through a link: by where it leads. /bin is a link into /usr here (merged /usr), and
  // a file made under it would land in /usr's read-only bind.
  const VmmRoot merged = plan_vmm_root("/srv/vm", {"/bin/qemu", {}, false}, host_);
  EXPECT_FALSE(names(merged, "/bin/qemu")) << "given with /usr";
  fs::create_symlink("fc/firecracker", host_ / "opt/current");
  const VmmRoot linked = plan_vmm_root("/srv/vm", {"/opt/current", {}, false}, host_);
  EXPECT_TRUE(has(linked, Kind::bind_ro, "/opt/fc/firecracker", (host_ / "opt/fc/firecracker").string()));
  EXPECT_FALSE(names(linked, "current"));
}

}  // namespace
}  // namespace ignite::sandbox::microvm
