// SeccompPolicy: the syscall policy as data (policies/seccomp/*.txt), parsed and checked before
// anything is compiled; SeccompFilter (seccomp_filter.hpp) turns it into BPF.
#pragma once
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace ignite::sandbox::native {

// `allow` is only meaningful on socket lines (every syscall the policy does not name is allowed).
enum class SeccompAction { allow, eperm, enosys, eafnosupport, kill };

// `ptrace eperm`: every call of a syscall gets the action.
struct SeccompRule {
  std::string syscall;
  SeccompAction action = SeccompAction::eperm;
};

// `socket family=AF_NETLINK protocol=NETLINK_ROUTE allow`: socket(2) and socketpair(2) calls by
// their family (arg0) and protocol (arg2).
struct SocketRule {
  std::optional<int> family;    // nullopt: `family=*`, every family no other line names
  std::optional<int> protocol;  // nullopt: any protocol
  SeccompAction action = SeccompAction::eafnosupport;
  int line = 0;  // in the policy text, for error messages
};

struct SeccompPolicy {
  std::vector<SeccompRule> syscalls;
  std::vector<SocketRule> sockets;
};

// Family numbers the filter compares one by one; every number from here up gets the `family=*`
// action with a single comparison. Above every AF_* the kernel knows (AF_MAX is 46 in 6.x).
constexpr int kSocketFamilySpan = 64;

// Parses the policy text format of policies/seccomp/*.txt (described in default.txt). Fails
// naming the line: unknown action, family or protocol; a duplicate; a combination the filter
// cannot express.
Result<SeccompPolicy> parse_seccomp_policy(std::string_view text);

// The built-in default policy (policies/seccomp/default.txt).
std::string_view default_seccomp_policy();

// What the policy does with a family's calls unless a protocol line says otherwise: the
// family's own line, else `family=*`, else allow.
SeccompAction socket_family_action(const SeccompPolicy& policy, int family);

// What the policy does with socket(family, type, protocol) (the filter compiles exactly this):
// the line for this family and protocol, else socket_family_action.
SeccompAction socket_action(const SeccompPolicy& policy, int family, int protocol);

// "AF_VSOCK" for 40, or "family 99" for a number without a name.
std::string socket_family_name(int family);

}  // namespace ignite::sandbox::native
