// Network: with `network: false` nothing outside the sandbox is reachable, not even the host's
// own loopback services. One control test shows the listener is reachable when allowed.
#include "sandbox_fixture.hpp"

namespace ignite::security {
namespace {

IGNITE_SECURITY_SUITE(Network);

TEST_P(Network, host_loopback_services_are_unreachable) {
  host::Listener listener;
  auto r = run(probe({"connect", "127.0.0.1", listener.port()}));
  // A container's "none" network has a loopback of its own, up and empty: refused, never ours.
  EXPECT_EQ(r.stdout_data, containers() ? "connect: Connection refused\n" : "connect: Network is unreachable\n");
  EXPECT_FALSE(listener.was_contacted());
}

TEST_P(Network, host_services_on_its_own_address_are_unreachable) {
  const std::string address = host::primary_address();
  if (address.empty()) GTEST_SKIP() << "this host has no non-loopback IPv4 address";
  host::Listener listener;
  auto r = run(probe({"connect", address, listener.port()}));
  EXPECT_EQ(r.stdout_data, "connect: Network is unreachable\n");
  EXPECT_FALSE(listener.was_contacted());
}

TEST_P(Network, other_addresses_are_unreachable) {
  for (const char* ip : {"1.1.1.1", "10.0.0.1", "169.254.169.254"}) {  // incl. cloud metadata
    auto r = run(probe({"connect", ip, "80"}));
    EXPECT_EQ(r.stdout_data, "connect: Network is unreachable\n") << ip;
  }
}

TEST_P(Network, dns_lookups_cannot_leave_the_sandbox) {
  auto r = run(probe({"udp", "8.8.8.8", "53"}));
  EXPECT_EQ(r.stdout_data, "sendto: Network is unreachable\n");
  auto conf = run(probe({"read", "/etc/resolv.conf"}));
  // Docker always binds a resolv.conf; without a network it names no server.
  EXPECT_EQ(conf.stdout_data, containers() ? "" : "open: No such file or directory\n");
}

TEST_P(Network, raw_and_packet_sockets_are_refused) {
  auto r = run(probe({"raw"}));
  // Raw IP: no CAP_NET_RAW; AF_PACKET: not even a socket (SocketFamilies.*).
  EXPECT_EQ(r.stdout_data,
            "raw: Operation not permitted\npacket: Address family not supported by protocol\n");
}

TEST_P(Network, the_loopback_cannot_be_brought_up) {
  auto r = run(probe({"ifup"}));
  EXPECT_EQ(r.stdout_data, "SIOCSIFFLAGS: Operation not permitted\n");
}

TEST_P(Network, only_a_loopback_interface_exists) {
  auto r = run(probe({"ifaces"}));
  EXPECT_EQ(r.stdout_data, "lo\n");
}

TEST_P(Network, python_cannot_resolve_names_or_reach_the_host) {
  host::Listener listener;
  auto r = run(python(
      "import socket\n"
      "try:\n    socket.getaddrinfo('example.com', 80)\n    print('resolved')\n"
      "except OSError as e:\n    print('dns failed')\n"
      "s = socket.socket()\n"
      "try:\n    s.connect(('127.0.0.1', " + listener.port() + "))\n    print('connected')\n"
      "except OSError as e:\n    print('connect failed', e.errno)\n"));
  // ENETUNREACH; in a container ECONNREFUSED (its own empty loopback).
  EXPECT_EQ(r.stdout_data, containers() ? "dns failed\nconnect failed 111\n" : "dns failed\nconnect failed 101\n")
      << r.stderr_data;
  EXPECT_FALSE(listener.was_contacted());
}

// Control: the same listener is reached when the spec allows the network, so the tests above
// fail if the network namespace is ever dropped.
TEST_P(Network, enabling_network_is_the_only_way_to_reach_host_services) {
  if (containers())
    GTEST_SKIP() << "network: true in a container is docker's network, never the host's loopback "
                    "(native shares the host's network namespace; docs/backends.md)";
  host::Listener listener;
  // A VM reaches the host as another machine would: at its address (its loopback is not).
  const std::string address = vm() ? host::primary_address() : "127.0.0.1";
  if (address.empty()) GTEST_SKIP() << "this host has no non-loopback IPv4 address for a VM to reach it at";
  auto spec = probe({"connect", address, listener.port()});
  spec.limits.network = true;
  auto r = run(spec);
  EXPECT_EQ(r.stdout_data, "connected\n");
  EXPECT_TRUE(listener.was_contacted());
}

// A VM's network is passt's, not QEMU's slirp, whose gateway address is the host's loopback: a
// program in the VM could otherwise reach a local `ignite serve` (no API key on loopback) and
// ask it for a native run.
TEST_P(Network, a_vms_network_does_not_lead_to_the_hosts_loopback) {
  if (!vm()) GTEST_SKIP() << "native's network: true shares the host's network namespace, loopback included, "
                             "and docker's is its bridge (docs/backends.md)";
  host::Listener listener;  // on every address, 127.0.0.1 included
  auto spec = python("import socket\n"
                     "for ip in ('10.0.2.2', '10.0.2.3', '127.0.0.1'):\n"
                     "    try:\n"
                     "        socket.create_connection((ip, " + listener.port() + "), timeout=1.5)\n"
                     "        print(ip, 'connected')\n"
                     "    except OSError:\n"
                     "        print(ip, 'no')\n");
  spec.limits.network = true;
  auto r = run(spec);
  EXPECT_EQ(r.stdout_data, "10.0.2.2 no\n10.0.2.3 no\n127.0.0.1 no\n") << r.stderr_data;
  EXPECT_FALSE(listener.was_contacted());
}

}  // namespace
}  // namespace ignite::security
