// EgressPolicy: which addresses a sandbox with egress (a dependency install) may reach through
// Ignite's proxy. Pure data and logic, unit-tested.
//
// Security: the point of egress is the package registry, on the internet. Never the host itself
// (loopback, any address of its own interfaces), never link-local (cloud metadata endpoints live
// at 169.254.169.254), never private networks (the services behind the host), unless the
// operator allows a network explicitly. Public addresses only on the web's ports.
#pragma once
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace ignite::sandbox::native {

// An IPv4 or IPv6 network; IPv4 is kept as an IPv4-mapped IPv6 prefix.
struct Cidr {
  std::array<std::uint8_t, 16> addr{};
  unsigned prefix = 0;  // of the 128-bit form
  bool contains(const std::array<std::uint8_t, 16>& a) const;
};

// "10.0.0.0/8", "fd00::/8", "192.0.2.7" (a single host). invalid_argument otherwise.
Result<Cidr> parse_cidr(std::string_view text);

// The 16-byte form of an AF_INET or AF_INET6 address (IPv4 as ::ffff:a.b.c.d).
std::array<std::uint8_t, 16> address_bytes(const sockaddr_storage& sa);

class EgressPolicy {
 public:
  // `allowed`: the operator's networks (any port); `host_addresses`: this host's own.
  EgressPolicy(std::vector<Cidr> allowed, std::vector<std::array<std::uint8_t, 16>> host_addresses);

  // This host's interface addresses (getifaddrs), for the constructor.
  static std::vector<std::array<std::uint8_t, 16>> local_addresses();

  // "" when the proxy may connect to `addr`:`port`; else why not (for the 403 body and logs).
  std::string refuse_reason(const std::array<std::uint8_t, 16>& addr, std::uint16_t port) const;

 private:
  std::vector<Cidr> allowed_;
  std::vector<std::array<std::uint8_t, 16>> host_;
};

}  // namespace ignite::sandbox::native
