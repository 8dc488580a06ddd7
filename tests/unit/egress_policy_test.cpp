// Where a dependency install may connect through the egress proxy (finding 3).
#include <arpa/inet.h>

#include <gtest/gtest.h>

#include "sandbox/native/egress_policy.hpp"

namespace ignite::sandbox::native {
namespace {

std::array<std::uint8_t, 16> addr(const char* text) {
  sockaddr_storage ss{};
  if (inet_pton(AF_INET, text, &reinterpret_cast<sockaddr_in&>(ss).sin_addr) == 1) {
    ss.ss_family = AF_INET;
  } else {
    inet_pton(AF_INET6, text, &reinterpret_cast<sockaddr_in6&>(ss).sin6_addr);
    ss.ss_family = AF_INET6;
  }
  return address_bytes(ss);
}

TEST(EgressPolicy, public_hosts_on_web_ports_only) {
  EgressPolicy p({}, {addr("192.0.2.2")});
  EXPECT_EQ(p.refuse_reason(addr("203.0.113.80"), 443), "");
  EXPECT_EQ(p.refuse_reason(addr("2001:db8::1"), 80), "");
  EXPECT_NE(p.refuse_reason(addr("203.0.113.80"), 22), "");
}

TEST(EgressPolicy, never_the_host_its_loopback_link_local_or_private_networks) {
  EgressPolicy p({}, {addr("192.0.2.2")});
  EXPECT_EQ(p.refuse_reason(addr("127.0.0.1"), 443), "the host's loopback");
  EXPECT_EQ(p.refuse_reason(addr("::1"), 443), "the host's loopback");
  EXPECT_EQ(p.refuse_reason(addr("::ffff:127.0.0.1"), 443), "the host's loopback");
  EXPECT_EQ(p.refuse_reason(addr("192.0.2.2"), 443), "an address of this host");
  EXPECT_NE(p.refuse_reason(addr("169.254.169.254"), 80).find("link-local"), std::string::npos);
  EXPECT_EQ(p.refuse_reason(addr("10.1.2.3"), 443), "a private network");
  EXPECT_EQ(p.refuse_reason(addr("172.31.0.1"), 443), "a private network");
  EXPECT_EQ(p.refuse_reason(addr("192.168.1.1"), 443), "a private network");
  EXPECT_EQ(p.refuse_reason(addr("fd00::1"), 443), "a private network");
  EXPECT_EQ(p.refuse_reason(addr("0.0.0.0"), 443), "an unspecified address");
  EXPECT_EQ(p.refuse_reason(addr("224.0.0.1"), 443), "multicast");
}

TEST(EgressPolicy, the_operator_may_allow_a_network_on_any_port_but_never_this_host) {
  auto mirror = parse_cidr("10.8.0.0/16");
  auto everything = parse_cidr("0.0.0.0/0");
  ASSERT_TRUE(mirror && everything);
  EgressPolicy p({*mirror, *everything}, {addr("10.8.0.5")});
  EXPECT_EQ(p.refuse_reason(addr("10.8.3.4"), 4873), "");
  EXPECT_EQ(p.refuse_reason(addr("10.8.0.5"), 3000), "an address of this host");
  EXPECT_EQ(p.refuse_reason(addr("127.0.0.1"), 3000), "the host's loopback");
  EgressPolicy narrow({*mirror}, {});
  EXPECT_EQ(narrow.refuse_reason(addr("10.9.0.1"), 443), "a private network");
}

TEST(EgressPolicy, ipv6_forms_that_embed_an_ipv4_address_are_refused) {
  EgressPolicy p({}, {});
  EXPECT_EQ(p.refuse_reason(addr("::127.0.0.1"), 443), "an IPv4-compatible address");
  EXPECT_EQ(p.refuse_reason(addr("::ffff:0:7f00:1"), 443), "an IPv4-translated address");
  EXPECT_EQ(p.refuse_reason(addr("2002:7f00:1::1"), 443), "a 6to4 address");
  EXPECT_EQ(p.refuse_reason(addr("2001:0:4136:e378:8000:63bf:3fff:fdd2"), 443), "a Teredo address");
  EXPECT_EQ(p.refuse_reason(addr("64:ff9b::7f00:1"), 443), "a NAT64 prefix");
  EXPECT_EQ(p.refuse_reason(addr("64:ff9b:1::1"), 443), "a NAT64 prefix");
  EXPECT_EQ(p.refuse_reason(addr("fec0::1"), 443), "site-local");
}

TEST(EgressPolicy, cidrs_parse_strictly) {
  EXPECT_TRUE(parse_cidr("192.0.2.7"));
  EXPECT_TRUE(parse_cidr("fd00::/8"));
  EXPECT_FALSE(parse_cidr("10.0.0.0/33"));
  EXPECT_FALSE(parse_cidr("10.0.0.0/"));
  EXPECT_FALSE(parse_cidr("example.com"));
  auto c = parse_cidr("10.0.0.0/8");
  ASSERT_TRUE(c);
  EXPECT_TRUE(c->contains(addr("10.255.0.1")));
  EXPECT_FALSE(c->contains(addr("11.0.0.1")));
}

}  // namespace
}  // namespace ignite::sandbox::native
