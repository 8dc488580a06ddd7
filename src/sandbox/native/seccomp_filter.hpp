// SeccompFilter: the syscall policy compiled once to BPF in the parent, loaded in the child.
#pragma once
#include <linux/filter.h>

#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace ignite::sandbox::native {

enum class SeccompAction { eperm, enosys, kill };

struct SeccompRule {
  std::string syscall;
  SeccompAction action = SeccompAction::eperm;
};

// Parses the policy text format of policies/seccomp/*.txt. Fails naming the line.
Result<std::vector<SeccompRule>> parse_seccomp_policy(std::string_view text);

// The built-in default policy (policies/seccomp/default.txt).
std::string_view default_seccomp_policy();

class SeccompFilter {
 public:
  // Compiles rules with libseccomp (unknown syscall names on this arch are skipped; they
  // cannot be called anyway). Also denies clone()/ioctl(TIOCSTI) uses named in the .cpp.
  static Result<SeccompFilter> compile(const std::vector<SeccompRule>& rules);

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
};

// Name of a syscall number on this architecture, for "blocked syscall: ptrace" messages.
std::string syscall_name(int nr);

}  // namespace ignite::sandbox::native
