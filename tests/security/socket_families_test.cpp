// Socket families: a network namespace covers only the families the kernel namespaces, so the
// seccomp policy allows AF_UNIX, AF_INET, AF_INET6 and NETLINK_ROUTE and answers every other
// family with EAFNOSUPPORT (policies/seccomp/default.txt). AF_VSOCK is the escape it closes: on
// a VM host it reaches the hypervisor (CID 2) whatever the network namespace says.
//
// Without the filter the kernel answers a socket() with invalid type bits EINVAL before it looks
// at the family, whatever families it was built with; the filter answers EAFNOSUPPORT first. So
// each family's check is deterministic, and a host-side control shows the kernel's own answer.
#include <linux/netlink.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <map>
#include <sstream>

#include "runtime/catalog.hpp"
#include "sandbox/native/seccomp_policy.hpp"
#include "sandbox_fixture.hpp"
#include "sys/files.hpp"

namespace ignite::security {
namespace {

IGNITE_SECURITY_SUITE(SocketFamilies);

constexpr int kFamilies = 64;  // every AF_* the kernel has (AF_MAX is 46 in 6.x), and more
constexpr const char* kInvalidType = "0x40000000";

// The probe run on the host, outside any sandbox: the kernel's own answers.
std::string probe_on_host(const std::string& args) {
  std::string out;
  FILE* p = ::popen((std::string(IGNITE_PROBE) + " " + args + " 2>&1").c_str(), "r");
  if (!p) return "popen failed";
  std::array<char, 4096> buf{};
  while (std::size_t n = std::fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  ::pclose(p);
  return out;
}

// "N key=value ..." lines of `probe socket-families` -> family -> "AF_NAME: line" and answers.
struct FamilyAnswers {
  std::map<int, std::string> line;
  std::map<int, std::map<std::string, std::string>> answer;
};

FamilyAnswers parse_families(const std::string& text) {
  FamilyAnswers out;
  for (const auto& l : lines(text)) {
    std::istringstream in(l);
    int family = -1;
    std::string kv;
    if (!(in >> family)) continue;
    out.line[family] = sandbox::native::socket_family_name(family) + ": " + l;
    while (in >> kv) {
      const auto eq = kv.find('=');
      if (eq != std::string::npos) out.answer[family][kv.substr(0, eq)] = kv.substr(eq + 1);
    }
  }
  return out;
}

bool allowed_family(int f) {
  return f == AF_UNIX || f == AF_INET || f == AF_INET6 || f == AF_NETLINK;
}

TEST_P(SocketFamilies, every_family_but_unix_inet_inet6_and_netlink_is_unsupported) {
  const auto host =
      parse_families(probe_on_host("socket-families " + std::to_string(kFamilies) + " probe-only"));
  auto r = run(probe({"socket-families", std::to_string(kFamilies)}));
  const auto sandbox = parse_families(r.stdout_data);
  ASSERT_EQ(sandbox.line.size(), static_cast<std::size_t>(kFamilies))
      << r.stdout_data << r.stderr_data;
  for (int f = 0; f < kFamilies; ++f) {
    // Control: without the filter the kernel says EINVAL for every family.
    EXPECT_EQ(host.answer.at(f).at("invalid"), "EINVAL") << host.line.at(f);
    EXPECT_EQ(host.answer.at(f).at("pair-invalid"), "EINVAL") << host.line.at(f);
    const auto& a = sandbox.answer.at(f);
    if (allowed_family(f)) {
      EXPECT_EQ(a.at("invalid"), "EINVAL")
          << "allowed, so the kernel answers: " << sandbox.line.at(f);
      EXPECT_EQ(a.at("pair-invalid"), "EINVAL") << sandbox.line.at(f);
      continue;
    }
    // Denied: the deterministic check, then a real socket of every type.
    for (const char* key : {"invalid", "pair-invalid", "stream", "dgram", "seqpacket", "raw"})
      EXPECT_EQ(a.at(key), "EAFNOSUPPORT") << key << " of " << sandbox.line.at(f);
  }
}

TEST_P(SocketFamilies, vsock_cannot_reach_the_hypervisor) {
  // socket, bind to VMADDR_CID_ANY, connect to CID 2 (the hypervisor): refused at socket().
  auto r = run(probe({"vsock", "2", "1024"}));
  EXPECT_EQ(r.stdout_data, "socket: EAFNOSUPPORT\n");
  // Control: on the host the same socket and bind work (no connect: the hypervisor's ports are
  // none of this test's business).
  const std::string host = probe_on_host("vsock");
  if (host.rfind("socket: ok", 0) != 0)
    GTEST_SKIP() << "this host has no vsock transport, so the control cannot show that socket() "
                    "would work without the filter: "
                 << host;
  EXPECT_EQ(host, "socket: ok\nbind: ok\n");
}

TEST_P(SocketFamilies, netlink_route_works_and_other_netlink_protocols_do_not) {
  const std::string netlink = std::to_string(AF_NETLINK), raw = std::to_string(SOCK_RAW);
  auto route = run(probe({"socket", netlink, raw, std::to_string(NETLINK_ROUTE)}));
  EXPECT_EQ(route.stdout_data, "socket: ok\n");
  // Without the filter an unprivileged NETLINK_KOBJECT_UEVENT socket opens (host control below).
  for (int protocol : {NETLINK_AUDIT, NETLINK_KOBJECT_UEVENT, NETLINK_SOCK_DIAG, NETLINK_GENERIC,
                       NETLINK_NETFILTER, NETLINK_XFRM, NETLINK_CONNECTOR}) {
    auto r = run(probe({"socket", netlink, raw, std::to_string(protocol)}));
    EXPECT_EQ(r.stdout_data, "socket: EAFNOSUPPORT\n") << "netlink protocol " << protocol;
  }
  EXPECT_EQ(
      probe_on_host("socket " + netlink + " " + raw + " " + std::to_string(NETLINK_KOBJECT_UEVENT)),
      "socket: ok\n");
}

// The kernel reads family and protocol as ints; seccomp sees 64-bit registers. Upper bits set
// must not turn a denied family into one the filter lets through.
TEST_P(SocketFamilies, upper_register_bits_do_not_smuggle_a_family_past_the_filter) {
  const std::pair<std::string, std::string> calls[] = {
      {"0x100000028", "1"},         // AF_VSOCK, SOCK_STREAM
      {"0xffffffff00000011", "3"},  // AF_PACKET, SOCK_RAW
      {"0x8000000000000026", "5"},  // AF_ALG, SOCK_SEQPACKET
  };
  for (const auto& [family, type] : calls) {
    auto r = run(probe({"socket", family, type, "0"}));
    EXPECT_EQ(r.stdout_data, "socket: EAFNOSUPPORT\n") << family;
    auto invalid = run(probe({"socket", family, kInvalidType, "0"}));
    EXPECT_EQ(invalid.stdout_data, "socket: EAFNOSUPPORT\n") << family;
    EXPECT_EQ(probe_on_host("socket " + family + " " + kInvalidType + " 0"), "socket: EINVAL\n")
        << family;
  }
  // NETLINK_AUDIT (9) with upper bits in the protocol, and NETLINK_ROUTE's family with them.
  auto audit =
      run(probe({"socket", std::to_string(AF_NETLINK), std::to_string(SOCK_RAW), "0x100000009"}));
  EXPECT_EQ(audit.stdout_data, "socket: EAFNOSUPPORT\n");
  auto route = run(probe({"socket", "0x100000010", std::to_string(SOCK_RAW), "0"}));
  EXPECT_EQ(route.stdout_data, "socket: EAFNOSUPPORT\n");
}

TEST_P(SocketFamilies, unix_inet_and_inet6_sockets_still_work) {
  const bool ipv6 = probe_on_host("socket " + std::to_string(AF_INET6) + " 1 0") == "socket: ok\n";
  for (int family : {AF_UNIX, AF_INET, AF_INET6}) {
    if (family == AF_INET6 && !ipv6) continue;  // the kernel, not the filter, refuses it
    for (int type : {SOCK_STREAM, SOCK_DGRAM}) {
      auto r = run(probe({"socket", std::to_string(family), std::to_string(type), "0"}));
      EXPECT_EQ(r.stdout_data, "socket: ok\n") << family << " " << type;
    }
  }
  auto pair = run(probe({"socketpair", std::to_string(AF_UNIX), std::to_string(SOCK_STREAM), "0"}));
  EXPECT_EQ(pair.stdout_data, "socketpair: ok\n");
  if (!ipv6) GTEST_SKIP() << "this host has no IPv6, so AF_INET6 was not checked";
}

// Runtimes list interfaces over NETLINK_ROUTE (getifaddrs/if_nameindex); that must keep working.
TEST_P(SocketFamilies, runtimes_can_still_list_interfaces) {
  auto py = run(python("import socket\nprint([name for _, name in socket.if_nameindex()])\n"));
  EXPECT_EQ(py.stdout_data, "['lo']\n") << py.stderr_data;
  auto node = run(script("node", "main.js",
                         "const os = require('os');\n"
                         "try { os.networkInterfaces(); console.log('listed'); }\n"
                         "catch (e) { console.log(e.message); }\n"));
  EXPECT_EQ(node.stdout_data, "listed\n") << node.stderr_data;
}

// Go's net.Interfaces reads NETLINK_ROUTE too; Go programs are compiled first, so through the CLI.
TEST_P(SocketFamilies, go_net_interfaces_still_works) {
  if (auto go = runtime::Catalog(runtime::default_roots()).resolve({"go", ""}); !go)
    GTEST_SKIP() << "the go runtime is not installed here: " << go.error().message;
  const auto source = work() / "interfaces.go";
  ASSERT_TRUE(sys::write_new_file(source,
                                  "package main\nimport (\"fmt\"; \"net\")\nfunc main() {\n"
                                  "  ifs, err := net.Interfaces()\n"
                                  "  if err != nil { fmt.Println(err); return }\n"
                                  "  for _, i := range ifs { fmt.Println(i.Name) }\n}\n")
                  .has_value());
  std::string out;
  const std::string cmd = std::string(IGNITE_BIN) + " exec --runtime go " + source.string() +
                          (rootless() ? " --allow-degraded" : "") + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::array<char, 4096> buf{};
  while (std::size_t n = std::fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  const int status = ::pclose(p);
  EXPECT_EQ(WEXITSTATUS(status), 0) << out;
  const auto got = lines(out);  // stdout and stderr (a degraded run logs a warning first)
  EXPECT_NE(std::find(got.begin(), got.end(), "lo"), got.end()) << out;
}

}  // namespace
}  // namespace ignite::security
