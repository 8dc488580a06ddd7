#include "sandbox/native/egress_policy.hpp"

#include <arpa/inet.h>
#include <ifaddrs.h>

#include <algorithm>
#include <cstring>

namespace ignite::sandbox::native {
namespace {

using Bytes = std::array<std::uint8_t, 16>;

Bytes mapped_v4(const in_addr& a) {
  Bytes b{};
  b[10] = b[11] = 0xff;
  std::memcpy(b.data() + 12, &a, 4);
  return b;
}

Cidr v4(const char* text, unsigned prefix) {
  in_addr a{};
  ::inet_pton(AF_INET, text, &a);
  return {mapped_v4(a), 96 + prefix};
}

Cidr v6(const char* text, unsigned prefix) {
  Cidr c;
  ::inet_pton(AF_INET6, text, c.addr.data());
  c.prefix = prefix;
  return c;
}

struct Denied {
  Cidr net;
  const char* why;
};

// Never reachable through egress unless the operator allows the network.
const std::vector<Denied>& denied() {
  static const std::vector<Denied> list = {
      {v4("0.0.0.0", 8), "an unspecified address"},
      {v4("127.0.0.0", 8), "the host's loopback"},
      {v4("10.0.0.0", 8), "a private network"},
      {v4("172.16.0.0", 12), "a private network"},
      {v4("192.168.0.0", 16), "a private network"},
      {v4("100.64.0.0", 10), "a carrier-grade NAT network"},
      {v4("169.254.0.0", 16), "link-local (cloud metadata lives there)"},
      {v4("192.0.0.0", 24), "an IETF protocol network"},
      {v4("198.18.0.0", 15), "a benchmarking network"},
      {v4("224.0.0.0", 4), "multicast"},
      {v4("240.0.0.0", 4), "a reserved network"},
      {v6("::", 128), "an unspecified address"},
      {v6("::1", 128), "the host's loopback"},
      {v6("fc00::", 7), "a private network"},
      {v6("fe80::", 10), "link-local"},
      {v6("ff00::", 8), "multicast"},
      {v6("64:ff9b::", 96), "a NAT64 prefix"},
      {v6("64:ff9b:1::", 48), "a NAT64 prefix"},
      // IPv6 forms that carry an IPv4 address the checks above would not see.
      {v6("::", 96), "an IPv4-compatible address"},
      {v6("::ffff:0:0:0", 96), "an IPv4-translated address"},
      {v6("2002::", 16), "a 6to4 address"},
      {v6("2001::", 32), "a Teredo address"},
      {v6("fec0::", 10), "site-local"},
  };
  return list;
}

}  // namespace

bool Cidr::contains(const Bytes& a) const {
  const unsigned full = prefix / 8, rest = prefix % 8;
  if (!std::equal(addr.begin(), addr.begin() + full, a.begin())) return false;
  if (rest == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xff << (8 - rest));
  return (addr[full] & mask) == (a[full] & mask);
}

Result<Cidr> parse_cidr(std::string_view text) {
  const auto slash = text.find('/');
  const std::string host(text.substr(0, slash));
  Cidr c;
  in_addr a4{};
  unsigned max = 128;
  if (::inet_pton(AF_INET, host.c_str(), &a4) == 1) {
    c.addr = mapped_v4(a4);
    max = 32;
  } else if (::inet_pton(AF_INET6, host.c_str(), c.addr.data()) != 1) {
    return fail(ErrorCode::invalid_argument, "not an IP network: '" + std::string(text) + "'");
  }
  unsigned prefix = max;
  if (slash != std::string_view::npos) {
    const std::string bits(text.substr(slash + 1));
    if (bits.empty() || bits.size() > 3 || bits.find_first_not_of("0123456789") != std::string::npos ||
        std::stoul(bits) > max)
      return fail(ErrorCode::invalid_argument, "bad prefix length in '" + std::string(text) + "'");
    prefix = static_cast<unsigned>(std::stoul(bits));
  }
  c.prefix = prefix + (max == 32 ? 96 : 0);
  return c;
}

Bytes address_bytes(const sockaddr_storage& sa) {
  if (sa.ss_family == AF_INET) return mapped_v4(reinterpret_cast<const sockaddr_in&>(sa).sin_addr);
  Bytes b{};
  if (sa.ss_family == AF_INET6)
    std::memcpy(b.data(), &reinterpret_cast<const sockaddr_in6&>(sa).sin6_addr, 16);
  return b;
}

EgressPolicy::EgressPolicy(std::vector<Cidr> allowed, std::vector<Bytes> host_addresses)
    : allowed_(std::move(allowed)), host_(std::move(host_addresses)) {}

std::vector<Bytes> EgressPolicy::local_addresses() {
  std::vector<Bytes> out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0) return out;
  for (ifaddrs* i = list; i; i = i->ifa_next) {
    if (!i->ifa_addr || (i->ifa_addr->sa_family != AF_INET && i->ifa_addr->sa_family != AF_INET6)) continue;
    sockaddr_storage ss{};
    std::memcpy(&ss, i->ifa_addr, i->ifa_addr->sa_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6));
    out.push_back(address_bytes(ss));
  }
  ::freeifaddrs(list);
  return out;
}

std::string EgressPolicy::refuse_reason(const Bytes& addr, std::uint16_t port) const {
  // This host itself, never: not even inside a network the operator allows (its own API and
  // whatever listens on 0.0.0.0 would be one CONNECT away).
  if (std::find(host_.begin(), host_.end(), addr) != host_.end()) return "an address of this host";
  static const Cidr loopback4 = v4("127.0.0.0", 8), loopback6 = v6("::1", 128);
  if (loopback4.contains(addr) || loopback6.contains(addr)) return "the host's loopback";
  // The operator's networks next: an internal registry mirror is their decision.
  for (const auto& c : allowed_) {
    if (c.contains(addr)) return "";
  }
  // IPv4 is matched in its mapped form (::ffff:a.b.c.d), which is how both spellings arrive.
  for (const auto& d : denied()) {
    if (d.net.contains(addr)) return d.why;
  }
  if (port != 443 && port != 80) return "port " + std::to_string(port) + " (public hosts: 80 and 443 only)";
  return "";
}

}  // namespace ignite::sandbox::native
