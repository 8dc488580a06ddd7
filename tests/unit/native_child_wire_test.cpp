// The bytes the supervisor sends a sandbox's init (child_wire.hpp): everything arrives as it
// was, and anything but a whole encoding is refused.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include "sandbox/native/child_wire.hpp"
#include "sandbox/native/mount_plan.hpp"

namespace ignite::sandbox::native {
namespace {

struct Sample {
  MountPlan plan{"/run/ignite/run-x/root", {}};
  std::vector<std::string> argv_s{"/usr/bin/python3", "-c", "print('a b')"};
  std::vector<std::string> env_s{"PATH=/usr/bin", "IGNITE_INPUT={\"n\":1}", "EMPTY="};
  std::vector<char*> argv, envp;
  std::vector<sock_filter> filter{{0x20, 0, 0, 4}, {0x15, 1, 0, 0xc000003e}, {0x06, 0, 0, 0x7fff0000}};
  sock_fprog prog{};
  std::vector<RlimitSetting> rlimits{{RLIMIT_CORE, 0}, {RLIMIT_NOFILE, 256}, {RLIMIT_FSIZE, RLIM_INFINITY}};
  ChildArgs args;

  Sample() {
    MountOp bind(OpKind::bind, "/usr", "/run/ignite/run-x/root/usr");
    bind.optional = true;
    bind.is_dir = true;
    MountOp file(OpKind::write_file, "", "/run/ignite/run-x/root/app/main.py", std::string("print(1)\0x", 10));
    file.executable = true;
    file.writable = true;
    plan.ops = {bind, file, MountOp(OpKind::overlay, "", "/run/ignite/run-x/root/opt", "lowerdir=/a:/b")};
    for (auto& s : argv_s) argv.push_back(s.data());
    argv.push_back(nullptr);
    for (auto& s : env_s) envp.push_back(s.data());
    envp.push_back(nullptr);
    prog = {static_cast<unsigned short>(filter.size()), filter.data()};
    args = ChildArgs{.plan = &plan, .workdir = "/app", .argv = argv.data(), .envp = envp.data(), .seccomp = &prog,
                     .seccomp_listener = true, .rlimits = rlimits.data(),
                     .rlimit_count = static_cast<int>(rlimits.size()), .uid = 60007, .gid = 60008,
                     .in_user_namespace = true, .sync_fd = 5, .cgroup_fds = {9, 10, -1, -1}, .report_fd = 6,
                     .exec_fd = 7, .stdin_fd = 11, .stdout_fd = 12, .stderr_fd = 13, .notify_fd = 14,
                     .handover_fd = 15, .export_path = "/out", .egress_port = 3128};
  }
};

bool decode(std::string_view bytes, DecodedChildArgs& out) { return decode_child_args(bytes.data(), bytes.size(), out); }

std::vector<std::string> strings_of(char* const* list) {
  std::vector<std::string> out;
  for (; *list; ++list) out.emplace_back(*list);
  return out;
}

TEST(ChildWire, every_argument_arrives_as_it_was_sent) {
  Sample s;
  DecodedChildArgs d;
  ASSERT_TRUE(decode(encode_child_args(s.args), d));
  const ChildArgs& a = d.args;
  EXPECT_EQ(a.plan, nullptr);
  EXPECT_STREQ(a.root, s.plan.root.c_str());
  ASSERT_EQ(a.step_count, 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    const MountStep& got = a.steps[i];
    const MountOp& want = s.plan.ops[i];
    EXPECT_EQ(got.kind, want.kind);
    EXPECT_STREQ(got.source, want.source.c_str());
    EXPECT_STREQ(got.target, want.target.c_str());
    EXPECT_EQ(std::string(got.data, got.data_size), want.data);  // NUL bytes included
    EXPECT_EQ(got.data[got.data_size], '\0');
    EXPECT_EQ(got.writable, want.writable);
    EXPECT_EQ(got.optional, want.optional);
    EXPECT_EQ(got.is_dir, want.is_dir);
    EXPECT_EQ(got.executable, want.executable);
  }
  EXPECT_STREQ(a.workdir, "/app");
  EXPECT_EQ(strings_of(a.argv), s.argv_s);
  EXPECT_EQ(strings_of(a.envp), s.env_s);
  ASSERT_NE(a.seccomp, nullptr);
  ASSERT_EQ(a.seccomp->len, s.filter.size());
  for (std::size_t i = 0; i < s.filter.size(); ++i) {
    EXPECT_EQ(a.seccomp->filter[i].code, s.filter[i].code);
    EXPECT_EQ(a.seccomp->filter[i].jt, s.filter[i].jt);
    EXPECT_EQ(a.seccomp->filter[i].jf, s.filter[i].jf);
    EXPECT_EQ(a.seccomp->filter[i].k, s.filter[i].k);
  }
  EXPECT_TRUE(a.seccomp_listener);
  ASSERT_EQ(a.rlimit_count, 3);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(a.rlimits[i].resource, s.rlimits[static_cast<std::size_t>(i)].resource);
    EXPECT_EQ(a.rlimits[i].value, s.rlimits[static_cast<std::size_t>(i)].value);
  }
  EXPECT_EQ(a.uid, 60007u);
  EXPECT_EQ(a.gid, 60008u);
  EXPECT_TRUE(a.in_user_namespace);
  EXPECT_EQ(child_fds(a), child_fds(s.args));
  EXPECT_STREQ(a.export_path, "/out");
  EXPECT_EQ(a.egress_port, 3128);
}

TEST(ChildWire, absent_parts_stay_absent) {
  Sample s;
  s.args.seccomp = nullptr;
  s.args.export_path = nullptr;
  s.args.rlimit_count = 0;
  s.argv_s.clear();
  s.argv = {nullptr};
  s.args.argv = s.argv.data();
  DecodedChildArgs d;
  ASSERT_TRUE(decode(encode_child_args(s.args), d));
  EXPECT_EQ(d.args.seccomp, nullptr);
  EXPECT_EQ(d.args.export_path, nullptr);
  EXPECT_EQ(d.args.rlimit_count, 0);
  EXPECT_EQ(d.args.argv[0], nullptr);
}

TEST(ChildWire, anything_but_a_whole_encoding_is_refused) {
  Sample s;
  const std::string bytes = encode_child_args(s.args);
  for (std::size_t n = 0; n < bytes.size(); ++n) {
    DecodedChildArgs d;
    EXPECT_FALSE(decode(std::string_view(bytes).substr(0, n), d)) << "a prefix of " << n << " bytes";
  }
  DecodedChildArgs trailing;
  EXPECT_FALSE(decode(bytes + '\0', trailing));
  std::string other_version = bytes;
  other_version[0] ^= 1;
  DecodedChildArgs versioned;
  EXPECT_FALSE(decode(other_version, versioned));
}

TEST(ChildWire, counts_beyond_the_bytes_are_refused_before_allocating) {
  Sample s;
  std::string bytes = encode_child_args(s.args);
  // The op count follows the magic (4) and the root (4 + length).
  const std::size_t at = 4 + 4 + s.plan.root.size();
  const std::uint32_t huge = 0xffffffffu;
  bytes.replace(at, 4, reinterpret_cast<const char*>(&huge), 4);
  DecodedChildArgs d;
  EXPECT_FALSE(decode(bytes, d));
  EXPECT_EQ(d.args.steps, nullptr);
}

TEST(ChildWire, an_unknown_mount_kind_is_refused) {
  Sample s;
  std::string bytes = encode_child_args(s.args);
  const std::size_t kind_at = 4 + 4 + s.plan.root.size() + 4;
  ASSERT_EQ(bytes[kind_at], static_cast<char>(OpKind::bind));
  bytes[kind_at] = 99;
  DecodedChildArgs d;
  EXPECT_FALSE(decode(bytes, d));
}

// The init decodes into one block sized from the input (child_decode.cpp): the encodings that
// grow most when decoded, empty strings and empty mount steps by the thousand, still fit.
TEST(ChildWire, the_densest_encodings_fit_the_decoding_block) {
  Sample s;
  s.plan.ops.assign(5000, MountOp(OpKind::mkdir, "", ""));
  s.argv_s.assign(5000, "");
  s.argv.clear();
  for (auto& a : s.argv_s) s.argv.push_back(a.data());
  s.argv.push_back(nullptr);
  s.args.argv = s.argv.data();
  s.args.envp = s.argv.data();
  DecodedChildArgs d;
  ASSERT_TRUE(decode(encode_child_args(s.args), d));
  ASSERT_EQ(d.args.step_count, 5000u);
  EXPECT_STREQ(d.args.steps[4999].target, "");
  EXPECT_EQ(strings_of(d.args.argv).size(), 5000u);
  EXPECT_EQ(strings_of(d.args.envp).size(), 5000u);
}

}  // namespace
}  // namespace ignite::sandbox::native
