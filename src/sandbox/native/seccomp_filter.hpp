// SeccompFilter: the syscall policy compiled once to BPF in the parent, loaded in the child.
#pragma once
#include <linux/filter.h>

#include <cstdint>
#include <filesystem>
#include <span>
#include <string_view>
#include <vector>

#include "core/result.hpp"
#include "sandbox/native/seccomp_policy.hpp"

namespace ignite::sandbox::native {

class SeccompFilter {
 public:
  // Compiles the policy with libseccomp (unknown syscall names on this arch are skipped; they
  // cannot be called anyway), socket lines as comparisons on socket(2)/socketpair(2)'s family
  // and protocol. Also denies clone()/ioctl(TIOCSTI) uses named in the .cpp.
  // With `notify_kills`, `kill` rules and foreign ABIs become SECCOMP_RET_USER_NOTIF so the
  // supervisor learns which call it was (see child.cpp/supervisor.cpp); without it they are
  // SECCOMP_RET_KILL_PROCESS.
  static Result<SeccompFilter> compile(const SeccompPolicy& policy, bool notify_kills = false);

  // A program compiled earlier by compile() (see default_seccomp_filter).
  static SeccompFilter from_program(std::span<const sock_filter> code, bool notify_kills);

  bool notify_kills() const noexcept { return notify_kills_; }

  // The compiled program, valid while this object lives. Loading it needs only prctl(2),
  // so it is safe to call between clone and execve.
  const sock_fprog* program() const noexcept { return &prog_; }

  SeccompFilter(SeccompFilter&& other) noexcept;
  SeccompFilter& operator=(SeccompFilter&&) = delete;
  SeccompFilter(const SeccompFilter&) = delete;
  ~SeccompFilter() = default;

 private:
  SeccompFilter() = default;
  std::vector<sock_filter> code_;
  sock_fprog prog_{};
  bool notify_kills_ = false;
};

// The default policy (policies/seccomp/default.txt), compiled at build time: what
// compile(parse_seccomp_policy(default_seccomp_policy()), notify_kills) returns, without
// libseccomp's work at every start (a unit test holds the two equal).
SeccompFilter default_seccomp_filter(bool notify_kills);

// Name of a syscall number on this architecture, for "blocked syscall: ptrace" messages.
std::string syscall_name(int nr);

// Name of a syscall of the ABI `audit_arch` (AUDIT_ARCH_*): "kexec_load", or for a foreign
// ABI "getpid (i386 ABI)". Never fails: unknown numbers come back as "syscall N".
std::string syscall_name(int nr, std::uint32_t audit_arch);

// Whether this kernel offers SECCOMP_RET_USER_NOTIF (read from <proc>/sys/kernel/seccomp).
bool kernel_has_user_notif(const std::filesystem::path& proc = "/proc");

}  // namespace ignite::sandbox::native
