// Pure parts of the native backend: mount plan, seccomp policy, spec validation, classification.
#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <unistd.h>

#include "core/execution_result.hpp"
#include "core/spec.hpp"
#include "sandbox/native/mount_plan.hpp"
#include "sandbox/native/seccomp_filter.hpp"

namespace ignite::sandbox::native {
namespace {

const MountOp* find(const MountPlan& plan, OpKind kind, const std::string& target) {
  for (const auto& op : plan.ops) {
    if (op.kind == kind && op.target == target) return &op;
  }
  return nullptr;
}

SandboxSpec spec_with_app() {
  SandboxSpec spec;
  spec.argv = {"/usr/bin/true"};
  spec.mounts = {{"/usr/bin", "/usr/bin", false}, {"/etc/hostname", "/app/host", false}};
  spec.workdir = "/app";
  spec.limits.tmp_bytes = 1 << 20;
  return spec;
}

TEST(MountPlan, read_only_files_are_bound_from_an_overlay_of_their_real_directory) {
  // /etc/resolv.conf -> ../run/... on systemd-resolved hosts: a relative link must not be
  // resolved against the overlay's staging dir.
  const auto dir = std::filesystem::temp_directory_path() / ("ignite-plan-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "etc");
  std::filesystem::create_directories(dir / "run");
  std::ofstream(dir / "run/stub.conf") << "nameserver 127.0.0.53\n";
  std::filesystem::create_symlink("../run/stub.conf", dir / "etc/resolv.conf");
  SandboxSpec spec = spec_with_app();
  spec.mounts = {{dir / "etc/resolv.conf", "/etc/resolv.conf", false}};
  auto plan = build_mount_plan(spec, "/scratch/root", {}, /*private_inodes=*/true);
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(plan.has_value()) << plan.error().message;
  const MountOp* bind = find(*plan, OpKind::bind, "/scratch/root/etc/resolv.conf");
  ASSERT_NE(bind, nullptr);
  EXPECT_EQ(std::filesystem::path(bind->source).filename(), "stub.conf");
  bool overlay_of_run = false;
  for (const auto& op : plan->ops)
    overlay_of_run |= op.kind == OpKind::overlay && op.data.find((dir / "run").string() + ":../empty") != std::string::npos;
  EXPECT_TRUE(overlay_of_run);
}

// Both layers of an overlay on one filesystem where the shared empty dir allows it: through an
// overlay over two filesystems, node touched ~400 more pages at start.
TEST(MountPlan, overlays_take_their_empty_layer_from_the_source_s_own_filesystem) {
  const auto dir = std::filesystem::temp_directory_path() / ("ignite-plan-empty-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir / "empty");
  std::filesystem::create_directories(dir / "src");
  SandboxSpec spec = spec_with_app();
  spec.mounts = {{dir / "src", "/opt/src", false}, {"/proc/self", "/opt/proc", false}};
  auto plan = build_mount_plan(spec, "/scratch/root", {}, /*private_inodes=*/true, dir / "empty");
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(plan.has_value()) << plan.error().message;
  const MountOp* same = find(*plan, OpKind::overlay, "/scratch/root/opt/src");
  const MountOp* other = find(*plan, OpKind::overlay, "/scratch/root/opt/proc");
  ASSERT_NE(same, nullptr);
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(same->data, "lowerdir=" + (dir / "src").string() + ":" + (dir / "empty").string() + ",xino=auto");
  EXPECT_EQ(other->data, "lowerdir=/proc/self:../empty,xino=auto");  // /proc: another filesystem
  // Without a shared dir, the run's own.
  auto own = build_mount_plan(spec_with_app(), "/scratch/root", {}, /*private_inodes=*/true);
  ASSERT_TRUE(own.has_value()) << own.error().message;
  const MountOp* bin = find(*own, OpKind::overlay, "/scratch/root/usr/bin");
  ASSERT_NE(bin, nullptr);
  EXPECT_EQ(bin->data, "lowerdir=/usr/bin:../empty,xino=auto");
}

TEST(MountPlan, binds_read_only_and_builds_a_minimal_root) {
  auto plan = build_mount_plan(spec_with_app(), "/scratch/root", {});
  ASSERT_TRUE(plan.has_value()) << plan.error().message;
  EXPECT_EQ(plan->ops.front().kind, OpKind::tmpfs);  // the root itself comes first
  const MountOp* bin = find(*plan, OpKind::bind, "/scratch/root/usr/bin");
  ASSERT_NE(bin, nullptr);
  EXPECT_FALSE(bin->writable);
  EXPECT_NE(find(*plan, OpKind::mkdir, "/scratch/root/usr"), nullptr);
  // A file source gets a file mount point, not a directory.
  EXPECT_NE(find(*plan, OpKind::mkfile, "/scratch/root/app/host"), nullptr);
  const MountOp* tmp = find(*plan, OpKind::tmpfs, "/scratch/root/tmp");
  ASSERT_NE(tmp, nullptr);
  EXPECT_NE(tmp->data.find("size=1048576"), std::string::npos);
  EXPECT_NE(find(*plan, OpKind::proc, "/scratch/root/proc"), nullptr);
  EXPECT_NE(find(*plan, OpKind::mask, "/scratch/root/proc/kcore"), nullptr);
  // Kernel-wide /proc dirs: binds of one empty read-only tmpfs made beside the root.
  const MountOp* empty_ro = find(*plan, OpKind::mask, "/scratch/masked");
  ASSERT_NE(empty_ro, nullptr);
  EXPECT_TRUE(empty_ro->is_dir);
  EXPECT_FALSE(empty_ro->optional);
  EXPECT_EQ(empty_ro->source, "");
  const MountOp* acpi = find(*plan, OpKind::mask, "/scratch/root/proc/acpi");
  ASSERT_NE(acpi, nullptr);
  EXPECT_EQ(acpi->source, "/scratch/masked");
  EXPECT_TRUE(acpi->is_dir);
  EXPECT_LT(empty_ro - plan->ops.data(), acpi - plan->ops.data());
  EXPECT_NE(find(*plan, OpKind::bind, "/scratch/root/dev/null"), nullptr);
  // Nothing of /sys, and the host's /etc is never bound without network.
  for (const auto& op : plan->ops) {
    EXPECT_EQ(op.target.find("/scratch/root/sys"), std::string::npos) << op.target;
    EXPECT_NE(op.source, "/etc/resolv.conf");
  }
  const MountOp* passwd = find(*plan, OpKind::write_file, "/scratch/root/etc/passwd");
  ASSERT_NE(passwd, nullptr);
  EXPECT_NE(passwd->data.find("sandbox:x:60000:60000"), std::string::npos);
}

// A source this run alone has (Mount::exclusive: ad-hoc code's staging dir, a warm slot's drop
// dir) shares no inode with another run: bound read-only as it is, with no overlay of its own.
TEST(MountPlan, an_exclusive_read_only_source_is_bound_without_an_overlay) {
  SandboxSpec spec = spec_with_app();
  spec.mounts = {{"/usr/bin", "/usr/bin", false}, {"/usr/lib", "/app", false, /*exclusive=*/true}};
  auto plan = build_mount_plan(spec, "/scratch/root", {}, /*private_inodes=*/true);
  ASSERT_TRUE(plan.has_value()) << plan.error().message;
  const MountOp* app = find(*plan, OpKind::bind, "/scratch/root/app");
  ASSERT_NE(app, nullptr);
  EXPECT_EQ(app->source, "/usr/lib");
  EXPECT_FALSE(app->writable);
  EXPECT_EQ(find(*plan, OpKind::overlay, "/scratch/root/app"), nullptr);
  // A shared source still gets its per-run overlay.
  EXPECT_NE(find(*plan, OpKind::overlay, "/scratch/root/usr/bin"), nullptr);
  EXPECT_EQ(find(*plan, OpKind::bind, "/scratch/root/usr/bin"), nullptr);
}

TEST(MountPlan, missing_source_is_an_error) {
  auto spec = spec_with_app();
  spec.mounts.push_back({"/definitely/not/here", "/x", false});
  auto plan = build_mount_plan(spec, "/scratch/root", {});
  ASSERT_FALSE(plan.has_value());
  EXPECT_NE(plan.error().message.find("/definitely/not/here"), std::string::npos);
}

TEST(SeccompPolicy, default_policy_parses_and_covers_the_dangerous_calls) {
  auto rules = parse_seccomp_policy(default_seccomp_policy());
  ASSERT_TRUE(rules.has_value()) << rules.error().message;
  for (const char* name : {"ptrace", "process_vm_readv", "process_vm_writev", "mount", "umount2",
                           "pivot_root", "unshare", "setns", "kexec_load", "kexec_file_load", "bpf",
                           "perf_event_open", "userfaultfd", "keyctl", "add_key", "request_key",
                           "io_uring_setup", "io_uring_enter", "io_uring_register",
                           "open_by_handle_at", "reboot", "swapon", "swapoff", "init_module",
                           "finit_module", "delete_module"}) {
    EXPECT_TRUE(std::any_of(rules->syscalls.begin(), rules->syscalls.end(),
                            [&](const SeccompRule& r) { return r.syscall == name; }))
        << name;
  }
}

TEST(SeccompPolicy, bad_action_names_the_line) {
  auto rules = parse_seccomp_policy("# c\nptrace eperm\nbpf explode\n");
  ASSERT_FALSE(rules.has_value());
  EXPECT_NE(rules.error().message.find("line 3"), std::string::npos);
}

TEST(SeccompPolicy, compiles_to_bpf) {
  auto rules = parse_seccomp_policy(default_seccomp_policy());
  ASSERT_TRUE(rules.has_value());
  auto filter = SeccompFilter::compile(*rules);
  ASSERT_TRUE(filter.has_value()) << filter.error().message;
  EXPECT_GT(filter->program()->len, 40);
  EXPECT_EQ(syscall_name(101), "ptrace");
}

TEST(SpecValidation, rejects_what_a_backend_must_never_see) {
  Limits ceilings;
  SandboxSpec ok_spec = spec_with_app();
  EXPECT_TRUE(validate(ok_spec, ceilings).has_value());
  auto bad = ok_spec;
  bad.argv.clear();
  EXPECT_FALSE(validate(bad, ceilings).has_value());
  bad = ok_spec;
  bad.mounts.push_back({"/usr", "/app/../etc", false});
  EXPECT_FALSE(validate(bad, ceilings).has_value());
  bad = ok_spec;
  bad.env = {"NOVALUE"};
  EXPECT_FALSE(validate(bad, ceilings).has_value());
  bad = ok_spec;
  bad.limits.memory_bytes = ceilings.memory_bytes + 1;  // requests only lower the ceilings
  EXPECT_FALSE(validate(bad, ceilings).has_value());
  bad = ok_spec;
  bad.limits.network = true;
  ceilings.network = false;
  EXPECT_FALSE(validate(bad, ceilings).has_value());
}

TEST(Classification, status_and_exit_codes_follow_the_contract) {
  EXPECT_EQ(status_name(Outcome::exited, 0), "ok");
  EXPECT_EQ(status_name(Outcome::exited, 2), "runtime_error");
  EXPECT_EQ(status_name(Outcome::wall_time_exceeded, 0), "timeout");
  EXPECT_EQ(status_name(Outcome::memory_exceeded, 0), "memory_limit");
  EXPECT_EQ(status_name(Outcome::syscall_blocked, 0), "syscall_blocked");
  EXPECT_EQ(cli_exit_code(Outcome::exited, 3, 0), 3);
  EXPECT_EQ(cli_exit_code(Outcome::wall_time_exceeded, 0, 9), 124);
  EXPECT_EQ(cli_exit_code(Outcome::memory_exceeded, 0, 9), 137);
  EXPECT_EQ(cli_exit_code(Outcome::signaled, 0, 11), 139);
}

}  // namespace
}  // namespace ignite::sandbox::native
