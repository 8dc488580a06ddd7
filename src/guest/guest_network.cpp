#include "guest/guest_network.hpp"

#include <arpa/inet.h>
#include <net/if.h>
#include <net/route.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <string>

#include "guest/device_wait.hpp"
#include "guest/protocol.hpp"
#include "sys/fd.hpp"

namespace ignite::guest {
namespace {


// The first interface that is not the loopback; empty when there is none (yet).
std::string find_nic() {
  std::string found;
  if (struct if_nameindex* names = ::if_nameindex()) {
    for (const struct if_nameindex* n = names; n->if_index != 0 && n->if_name; ++n)
      if (std::strcmp(n->if_name, "lo") != 0) {
        found = n->if_name;
        break;
      }
    ::if_freenameindex(names);
  }
  return found;
}

sockaddr ipv4(std::string_view text) {
  sockaddr_in in{};
  in.sin_family = AF_INET;
  ::inet_pton(AF_INET, std::string(text).c_str(), &in.sin_addr);
  sockaddr out{};
  std::memcpy(&out, &in, sizeof in);
  return out;
}

ifreq request(const std::string& name) {
  ifreq r{};  // zeroed: the name stays terminated
  std::memcpy(r.ifr_name, name.data(), std::min(name.size(), std::size_t{IFNAMSIZ - 1}));
  return r;
}

Status set_up(int sock, const std::string& name) {
  ifreq r = request(name);
  if (::ioctl(sock, SIOCGIFFLAGS, &r) != 0) return fail(Error::from_errno("the flags of " + name));
  r.ifr_flags = static_cast<short>(r.ifr_flags | IFF_UP | IFF_RUNNING);
  if (::ioctl(sock, SIOCSIFFLAGS, &r) != 0) return fail(Error::from_errno("bring " + name + " up"));
  return ok();
}

}  // namespace

Status bring_up_user_network() {
  sys::Fd sock(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock) return fail(Error::from_errno("network: socket"));
  IGNITE_TRY(set_up(sock.get(), "lo"));
  const std::string nic = wait_for_device(find_nic);
  if (nic.empty()) return fail(ErrorCode::unavailable, "network: the VM has no NIC");

  ifreq r = request(nic);
  r.ifr_addr = ipv4(kGuestAddress);
  if (::ioctl(sock.get(), SIOCSIFADDR, &r) != 0) return fail(Error::from_errno("network: the address of " + nic));
  r = request(nic);
  r.ifr_netmask = ipv4(kGuestNetmask);
  if (::ioctl(sock.get(), SIOCSIFNETMASK, &r) != 0) return fail(Error::from_errno("network: the netmask of " + nic));
  IGNITE_TRY(set_up(sock.get(), nic));

  rtentry route{};
  route.rt_dst = ipv4("0.0.0.0");
  route.rt_genmask = ipv4("0.0.0.0");
  route.rt_gateway = ipv4(kGuestGateway);
  route.rt_flags = RTF_UP | RTF_GATEWAY;
  if (::ioctl(sock.get(), SIOCADDRT, &route) != 0) return fail(Error::from_errno("network: the default route"));
  return ok();
}

}  // namespace ignite::guest
