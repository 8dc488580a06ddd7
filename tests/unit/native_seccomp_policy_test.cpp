// The seccomp policy's socket lines: what the default policy allows, and the errors of bad lines.
#include <gtest/gtest.h>
#include <linux/netlink.h>
#include <sys/socket.h>

#include <cstring>

#include "sandbox/native/seccomp_filter.hpp"

namespace ignite::sandbox::native {
namespace {

SeccompPolicy default_policy() {
  auto p = parse_seccomp_policy(default_seccomp_policy());
  EXPECT_TRUE(p.has_value()) << p.error().message;
  return p ? *p : SeccompPolicy{};
}

TEST(SeccompPolicy, only_unix_inet_inet6_and_netlink_route_sockets_are_allowed) {
  const auto p = default_policy();
  for (int family = 0; family < kSocketFamilySpan + 8; ++family) {
    const bool open = family == AF_UNIX || family == AF_INET || family == AF_INET6;
    for (int protocol : {0, 1, 6, 17}) {
      const bool allowed = open || (family == AF_NETLINK && protocol == NETLINK_ROUTE);
      EXPECT_EQ(socket_action(p, family, protocol),
                allowed ? SeccompAction::allow : SeccompAction::eafnosupport)
          << socket_family_name(family) << " protocol " << protocol;
    }
  }
  for (int protocol : {NETLINK_AUDIT, NETLINK_KOBJECT_UEVENT, NETLINK_SOCK_DIAG, NETLINK_GENERIC})
    EXPECT_EQ(socket_action(p, AF_NETLINK, protocol), SeccompAction::eafnosupport) << protocol;
  EXPECT_EQ(socket_family_name(AF_VSOCK), "AF_VSOCK");
  EXPECT_EQ(socket_family_name(99), "family 99");
}

TEST(SeccompPolicy, socket_lines_compile_to_bpf) {
  auto filter = SeccompFilter::compile(default_policy());
  ASSERT_TRUE(filter.has_value()) << filter.error().message;
  EXPECT_LT(filter->program()->len, 4096);  // BPF_MAXINSNS
}

TEST(SeccompPolicy, a_deny_list_of_families_is_expressible_too) {
  auto p = parse_seccomp_policy(
      "socket family=AF_VSOCK eafnosupport # why\n"
      "socket family=AF_INET protocol=132 eperm\n");
  ASSERT_TRUE(p.has_value()) << p.error().message;
  EXPECT_EQ(socket_action(*p, AF_VSOCK, 0), SeccompAction::eafnosupport);
  EXPECT_EQ(socket_action(*p, AF_INET, 132), SeccompAction::eperm);
  EXPECT_EQ(socket_action(*p, AF_INET, 6), SeccompAction::allow);
  EXPECT_EQ(socket_action(*p, AF_PACKET, 0), SeccompAction::allow);
  EXPECT_TRUE(SeccompFilter::compile(*p).has_value());
}

// Each bad line is refused with its line number and what is wrong with it.
TEST(SeccompPolicy, bad_socket_lines_name_the_line_and_the_problem) {
  const std::pair<const char*, const char*> cases[] = {
      {"ptrace eperm\nsocket family=AF_VSOK eafnosupport\n",
       "line 2: unknown socket family 'AF_VSOK'"},
      {"socket family=AF_INET\n", "line 1: a socket line needs an action"},
      {"socket protocol=0 allow\n", "line 1: a socket line needs family="},
      {"socket family=* protocol=0 allow\n", "line 1: protocol= needs a named family"},
      {"socket family=AF_NETLINK protocol=NETLINK_NOPE allow\n",
       "line 1: unknown protocol 'NETLINK_NOPE'"},
      {"socket family=AF_INET proto=6 eperm\n", "line 1: unexpected 'proto=6'"},
      {"ptrace family=AF_INET eperm\n",
       "line 1: conditions (family=AF_INET) are only supported on socket"},
      {"ptrace allow\n", "line 1: 'allow' needs a condition"},
      {"socket family=AF_INET allow\nsocket family=AF_INET eperm\n", "line 2: repeats line 1"},
      {"socket family=* eafnosupport\nsocket family=AF_VSOCK protocol=0 eperm\n",
       "line 2: AF_VSOCK is denied already"},
      {"socket family=* eafnosupport\nsocket family=AF_NETLINK protocol=0 allow\n"
       "socket family=AF_NETLINK protocol=4 allow\n",
       "line 3: AF_NETLINK allows a protocol on line 2"},
      {"socket family=AF_INET6 protocol=6 allow\n", "line 1: AF_INET6 is allowed already"},
      {"socket eperm\nsocket family=AF_INET allow\n", "line 1: a plain socket line would override"},
      {"socket family=AF_INET allow eperm\n", "line 1: unexpected 'eperm' after the action"},
      {"socket family=AF_INET permit\n", "line 1: unknown action 'permit'"},
  };
  for (const auto& [text, want] : cases) {
    auto p = parse_seccomp_policy(text);
    ASSERT_FALSE(p.has_value()) << text;
    EXPECT_NE(p.error().message.find(want), std::string::npos) << text << "\n" << p.error().message;
  }
}

// The BPF built into the binary at build time is exactly what libseccomp compiles from the
// default policy now, in both forms: a stale or hand-edited program fails here.
TEST(SeccompPolicy, the_built_in_default_filter_is_the_compiled_default_policy) {
  for (const bool notify : {false, true}) {
    auto compiled = SeccompFilter::compile(default_policy(), notify);
    ASSERT_TRUE(compiled.has_value()) << compiled.error().message;
    const SeccompFilter built_in = default_seccomp_filter(notify);
    EXPECT_EQ(built_in.notify_kills(), notify);
    const sock_fprog* a = built_in.program();
    const sock_fprog* b = compiled->program();
    ASSERT_EQ(a->len, b->len) << "notify=" << notify;
    ASSERT_GT(a->len, 50);
    EXPECT_EQ(std::memcmp(a->filter, b->filter, a->len * sizeof(sock_filter)), 0) << "notify=" << notify;
  }
}

}  // namespace
}  // namespace ignite::sandbox::native
