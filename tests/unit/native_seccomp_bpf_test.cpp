// The built-in seccomp program, run: a small classic-BPF interpreter feeds it every syscall number
// and the arguments the policy distinguishes, and each answer must be what the policy says. So
// the program's shape (libseccomp's binary tree, or anything later) can change, its meaning not.
#include <gtest/gtest.h>
#include <linux/audit.h>
#include <linux/netlink.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <map>
#include <optional>

#include "sandbox/native/seccomp_filter.hpp"

namespace ignite::sandbox::native {
namespace {

// The classic BPF that libseccomp emits for a seccomp filter, run over a seccomp_data: loads of
// the data's words, the scratch memory, AND, the conditional jumps and returns. nullopt: any other
// instruction (a new libseccomp would make this test fail loudly rather than guess), a load
// outside the data, a jump out of the program, or no return.
std::optional<std::uint32_t> run_bpf(const sock_fprog& prog, const seccomp_data& data) {
  std::uint32_t a = 0, mem[BPF_MEMWORDS] = {};
  for (std::size_t pc = 0; pc < prog.len; ++pc) {
    const sock_filter& in = prog.filter[pc];
    if (in.code == (BPF_LD | BPF_W | BPF_ABS)) {
      if (in.k % 4 != 0 || in.k + 4 > sizeof data) return std::nullopt;
      std::memcpy(&a, reinterpret_cast<const char*>(&data) + in.k, 4);
    } else if (in.code == (BPF_LD | BPF_MEM) && in.k < BPF_MEMWORDS) {
      a = mem[in.k];
    } else if (in.code == BPF_ST && in.k < BPF_MEMWORDS) {
      mem[in.k] = a;
    } else if (in.code == (BPF_ALU | BPF_AND | BPF_K)) {
      a &= in.k;
    } else if (in.code == (BPF_RET | BPF_K)) {
      return in.k;
    } else if (in.code == (BPF_RET | BPF_A)) {
      return a;
    } else if (BPF_CLASS(in.code) == BPF_JMP && BPF_SRC(in.code) == BPF_K) {
      std::size_t skip = 0;
      if (BPF_OP(in.code) == BPF_JA)
        skip = in.k;
      else if (BPF_OP(in.code) == BPF_JEQ)
        skip = a == in.k ? in.jt : in.jf;
      else if (BPF_OP(in.code) == BPF_JGT)
        skip = a > in.k ? in.jt : in.jf;
      else if (BPF_OP(in.code) == BPF_JGE)
        skip = a >= in.k ? in.jt : in.jf;
      else if (BPF_OP(in.code) == BPF_JSET)
        skip = (a & in.k) != 0 ? in.jt : in.jf;
      else
        return std::nullopt;
      if (pc + 1 + skip >= prog.len) return std::nullopt;
      pc += skip;
    } else {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

seccomp_data call(int nr, std::uint64_t a0 = 0, std::uint64_t a1 = 0, std::uint64_t a2 = 0,
                  std::uint32_t arch = AUDIT_ARCH_X86_64) {
  seccomp_data d{};
  d.nr = nr;
  d.arch = arch;
  d.args[0] = a0;
  d.args[1] = a1;
  d.args[2] = a2;
  return d;
}

std::uint32_t expected(SeccompAction action, bool notify) {
  switch (action) {
    case SeccompAction::allow:
      return SECCOMP_RET_ALLOW;
    case SeccompAction::eperm:
      return SECCOMP_RET_ERRNO | EPERM;
    case SeccompAction::enosys:
      return SECCOMP_RET_ERRNO | ENOSYS;
    case SeccompAction::eafnosupport:
      return SECCOMP_RET_ERRNO | EAFNOSUPPORT;
    case SeccompAction::kill:
      return notify ? SECCOMP_RET_USER_NOTIF : SECCOMP_RET_KILL_PROCESS;
  }
  return 0;
}

class BuiltInFilter : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    auto p = parse_seccomp_policy(default_seccomp_policy());
    ASSERT_TRUE(p.has_value()) << p.error().message;
    policy_ = *p;
    for (const auto& r : policy_.syscalls) {
      const int nr = seccomp_syscall_resolve_name(r.syscall.c_str());
      if (nr != __NR_SCMP_ERROR) named_[nr] = r.action;
    }
    filter_.emplace(default_seccomp_filter(notify()));
  }
  bool notify() const { return GetParam(); }
  std::uint32_t run(const seccomp_data& d) const {
    const auto out = run_bpf(*filter_->program(), d);
    EXPECT_TRUE(out.has_value()) << "the program did not end in a return for syscall " << d.nr;
    return out.value_or(0xdeadbeef);
  }
  SeccompPolicy policy_;
  std::map<int, SeccompAction> named_;
  std::optional<SeccompFilter> filter_;  // the built-in program of this form, copied once
};

TEST_P(BuiltInFilter, every_syscall_number_gets_the_policys_action) {
  ASSERT_GT(named_.size(), 30u);
  for (int nr = 0; nr < 512; ++nr) {
    if (nr == SYS_socket || nr == SYS_socketpair || nr == SYS_clone || nr == SYS_ioctl) continue;
    const auto it = named_.find(nr);
    const SeccompAction want = it == named_.end() ? SeccompAction::allow : it->second;
    EXPECT_EQ(run(call(nr)), expected(want, notify())) << syscall_name(nr);
  }
}

TEST_P(BuiltInFilter, a_namespace_flag_on_clone_is_refused_and_a_plain_clone_is_not) {
  constexpr std::uint64_t kSigchld = SIGCHLD;
  EXPECT_EQ(run(call(SYS_clone, kSigchld)), SECCOMP_RET_ALLOW);
  EXPECT_EQ(run(call(SYS_clone, CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_THREAD | CLONE_SIGHAND)),
            SECCOMP_RET_ALLOW);
  for (int flag : {CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID,
                   CLONE_NEWNET, CLONE_NEWCGROUP})
    EXPECT_EQ(run(call(SYS_clone, static_cast<std::uint64_t>(flag) | kSigchld)),
              SECCOMP_RET_ERRNO | EPERM)
        << std::hex << flag;
}

TEST_P(BuiltInFilter, tiocsti_is_refused_whatever_the_upper_bits_and_other_ioctls_pass) {
  EXPECT_EQ(run(call(SYS_ioctl, 0, TIOCSTI)), SECCOMP_RET_ERRNO | EPERM);
  EXPECT_EQ(run(call(SYS_ioctl, 0, 0xffffffff00000000ull | TIOCSTI)), SECCOMP_RET_ERRNO | EPERM);
  EXPECT_EQ(run(call(SYS_ioctl, 0, TCGETS)), SECCOMP_RET_ALLOW);
  EXPECT_EQ(run(call(SYS_ioctl, 0, FIONREAD)), SECCOMP_RET_ALLOW);
}

TEST_P(BuiltInFilter, sockets_get_their_familys_and_protocols_action) {
  for (int nr : {SYS_socket, SYS_socketpair}) {
    for (int family = 0; family < kSocketFamilySpan + 8; ++family) {
      for (int protocol :
           {0, 1, 6, 17, NETLINK_ROUTE, NETLINK_AUDIT, NETLINK_KOBJECT_UEVENT, NETLINK_SOCK_DIAG}) {
        EXPECT_EQ(run(call(nr, static_cast<std::uint64_t>(family), SOCK_STREAM,
                           static_cast<std::uint64_t>(protocol))),
                  expected(socket_action(policy_, family, protocol), notify()))
            << syscall_name(nr) << " " << socket_family_name(family) << " protocol " << protocol;
      }
    }
    EXPECT_EQ(run(call(nr, 0xffffffffull, 0, 0)),
              expected(socket_family_action(policy_, 1 << 20), notify()));
  }
}

TEST_P(BuiltInFilter, foreign_abis_are_killed) {
  const std::uint32_t kill = expected(SeccompAction::kill, notify());
  EXPECT_EQ(run(call(SYS_getpid, 0, 0, 0, AUDIT_ARCH_I386)), kill);
  EXPECT_EQ(run(call(SYS_getpid, 0, 0, 0, AUDIT_ARCH_AARCH64)), kill);
  EXPECT_EQ(run(call(0x40000000 | SYS_getpid)), kill) << "x32";
}

INSTANTIATE_TEST_SUITE_P(Forms, BuiltInFilter, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& form) {
                           return form.param ? "notify" : "kill";
                         });

}  // namespace
}  // namespace ignite::sandbox::native
