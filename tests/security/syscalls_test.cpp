// System calls: the seccomp policy (policies/seccomp/default.txt) as observed from inside.
// Arguments are chosen so the call would succeed, or fail differently, without the filter:
// the exact errno shows that seccomp, not some other check, refused it.
#include <linux/sched.h>
#include <sys/syscall.h>

#include <csignal>

#include "../common/probe_spec.hpp"
#include "sandbox_fixture.hpp"

namespace ignite::security {
namespace {

IGNITE_SECURITY_SUITE(Syscalls);

std::string nr(long n) { return std::to_string(n); }

constexpr const char* kEperm = "errno=Operation not permitted";
constexpr const char* kEnosys = "errno=Function not implemented";

TEST_P(Syscalls, ptrace_is_refused) {
  // PTRACE_TRACEME would succeed for any process.
  auto r = run(probe({"syscall", nr(SYS_ptrace), "0"}));
  EXPECT_TRUE(contains(r.stdout_data, kEperm)) << r.stdout_data;
}

TEST_P(Syscalls, process_vm_readv_is_refused) {
  // Reading zero bytes of our own memory would succeed.
  auto r = run(probe({"syscall", nr(SYS_process_vm_readv), "self", "0", "0", "0", "0", "0"}));
  EXPECT_TRUE(contains(r.stdout_data, kEperm)) << r.stdout_data;
}

TEST_P(Syscalls, mount_is_refused) {
  auto r = run(probe({"syscall", nr(SYS_mount), "0", "0", "0", "0", "0"}));
  EXPECT_TRUE(contains(r.stdout_data, kEperm)) << r.stdout_data;
}

TEST_P(Syscalls, unshare_is_refused) {
  // An unprivileged user namespace would be allowed by the kernel itself.
  auto r = run(probe({"syscall", nr(SYS_unshare), nr(CLONE_NEWUSER)}));
  EXPECT_TRUE(contains(r.stdout_data, kEperm)) << r.stdout_data;
}

TEST_P(Syscalls, setns_is_refused) {
  // Without the filter a bad fd gives EBADF.
  auto r = run(probe({"syscall", nr(SYS_setns), "-1", "0"}));
  EXPECT_TRUE(contains(r.stdout_data, kEperm)) << r.stdout_data;
}

TEST_P(Syscalls, namespace_flags_on_clone_are_refused) {
  auto r = run(probe({"clone", nr(CLONE_NEWUSER)}));
  EXPECT_EQ(r.stdout_data, "clone: Operation not permitted\n");
  auto plain = run(probe({"clone", "0"}));
  EXPECT_EQ(plain.stdout_data, "cloned\n");  // ordinary fork still works
}

TEST_P(Syscalls, clone3_is_unavailable_so_its_flags_cannot_hide) {
  auto r = run(probe({"clone3"}));
  EXPECT_EQ(r.stdout_data, "clone3: Function not implemented\n");
}

TEST_P(Syscalls, bpf_is_refused) {
  auto r = run(probe({"syscall", nr(SYS_bpf), "0", "0", "0"}));
  EXPECT_TRUE(contains(r.stdout_data, kEperm)) << r.stdout_data;
}

TEST_P(Syscalls, perf_event_open_is_refused) {
  // A NULL attr would be EFAULT without the filter.
  auto r = run(probe({"syscall", nr(SYS_perf_event_open), "0", "0", "-1", "-1", "0"}));
  EXPECT_TRUE(contains(r.stdout_data, kEperm)) << r.stdout_data;
}

TEST_P(Syscalls, userfaultfd_is_refused) {
  // UFFD_USER_MODE_ONLY is allowed to unprivileged users by the kernel.
  auto r = run(probe({"syscall", nr(SYS_userfaultfd), "1"}));
  EXPECT_TRUE(contains(r.stdout_data, kEperm)) << r.stdout_data;
}

TEST_P(Syscalls, io_uring_is_unavailable) {
  // A NULL params pointer would be EFAULT without the filter.
  auto r = run(probe({"syscall", nr(SYS_io_uring_setup), "1", "0"}));
  EXPECT_TRUE(contains(r.stdout_data, kEnosys)) << r.stdout_data;
}

TEST_P(Syscalls, keyrings_are_unreachable) {
  // KEYCTL_GET_KEYRING_ID of the session keyring would succeed; keyrings are not namespaced.
  auto r = run(probe({"syscall", nr(SYS_keyctl), "0", "-3", "0"}));
  EXPECT_TRUE(contains(r.stdout_data, kEperm)) << r.stdout_data;
  auto add = run(probe({"add-key"}));
  EXPECT_EQ(add.stdout_data, "add_key: Operation not permitted\n");
}

TEST_P(Syscalls, personality_changes_are_refused) {
  auto r = run(probe({"syscall", nr(SYS_personality), "0xffffffff"}));
  EXPECT_TRUE(contains(r.stdout_data, kEperm)) << r.stdout_data;
}

TEST_P(Syscalls, tiocsti_terminal_injection_is_refused) {
  // stdin is a pipe: without the filter the kernel answers ENOTTY, not EPERM.
  auto r = run(probe({"tiocsti"}));
  EXPECT_EQ(r.stdout_data, "ioctl(TIOCSTI): Operation not permitted\n");
}

TEST_P(Syscalls, kexec_load_kills_the_program_and_is_reported_by_name) {
  auto r = run(probe({"syscall", nr(SYS_kexec_load), "0", "0", "0", "0"}));
  EXPECT_EQ(r.outcome, Outcome::syscall_blocked) << r.stdout_data << r.detail;
  EXPECT_EQ(status_name(r.outcome, r.exit_code), "syscall_blocked");
  EXPECT_EQ(r.signal, SIGSYS);
  EXPECT_EQ(r.blocked_syscall, "kexec_load");
  EXPECT_EQ(r.detail, "blocked syscall: kexec_load");
  EXPECT_EQ(r.stdout_data, "");  // the call never returned
}

TEST_P(Syscalls, kernel_module_loading_kills_the_program_and_is_reported_by_name) {
  auto r = run(probe({"syscall", nr(SYS_finit_module), "-1", "0", "0"}));
  EXPECT_EQ(r.outcome, Outcome::syscall_blocked) << r.stdout_data << r.detail;
  EXPECT_EQ(r.blocked_syscall, "finit_module");
}

TEST_P(Syscalls, open_by_handle_at_kills_the_program_and_is_reported_by_name) {
  auto r = run(probe({"syscall", nr(SYS_open_by_handle_at), "-1", "0", "0"}));
  EXPECT_EQ(r.outcome, Outcome::syscall_blocked) << r.stdout_data << r.detail;
  EXPECT_EQ(r.blocked_syscall, "open_by_handle_at");
}

TEST_P(Syscalls, the_32_bit_abi_is_killed_and_reported_by_name) {
  if (!ignite::testing::kernel_runs_i386_syscalls())
    GTEST_SKIP() << "this kernel has no i386 ABI (int 0x80 is SIGSEGV on the host too): nothing for seccomp to kill";
  auto r = run(probe({"int80"}));
  EXPECT_EQ(r.outcome, Outcome::syscall_blocked) << r.stdout_data << r.detail;
  EXPECT_EQ(r.signal, SIGSYS);
  EXPECT_EQ(r.blocked_syscall, "getpid (i386 ABI)");
  EXPECT_EQ(r.stdout_data, "");
}

TEST_P(Syscalls, chroot_cannot_escape_the_root) {
  auto r = run(probe({"chroot-escape"}));
  EXPECT_TRUE(contains(r.stdout_data, "chroot: Operation not permitted")) << r.stdout_data;
  // Walking ".." from the sandbox's / stays there: the listing is the sandbox root's.
  EXPECT_EQ(r.stdout_data.substr(r.stdout_data.find('\n', r.stdout_data.find("chroot(.)")) + 1),
            run(probe({"ls", "/"})).stdout_data);
}

TEST_P(Syscalls, setuid_to_root_is_refused) {
  if (rootless()) GTEST_SKIP() << "rootless: the program already is uid 0 of its own user "
                                  "namespace (mapped to the invoking user), without capabilities";
  auto r = run(probe({"syscall", nr(SYS_setuid), "0"}));
  EXPECT_TRUE(contains(r.stdout_data, kEperm)) << r.stdout_data;
}

}  // namespace
}  // namespace ignite::security
