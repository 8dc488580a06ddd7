#include "sandbox/microvm/user_network.hpp"

#include <sys/socket.h>

#include "guest/protocol.hpp"
#include "sandbox/microvm/vmm_process.hpp"

namespace ignite::sandbox::microvm {

std::vector<std::string> passt_argv(const std::filesystem::path& passt, int fd) {
  return {passt.string(),
          "--foreground", "--quiet",
          "--fd", std::to_string(fd),  // QEMU's peer; passt exits once it closes
          // Security: the gateway is not the host's loopback, and nothing is forwarded in.
          "--no-map-gw", "--tcp-ports", "none", "--udp-ports", "none",
          "--ipv4-only",
          "--address", std::string(guest::kGuestAddress), "--netmask", std::string(guest::kGuestNetmask),
          "--gateway", std::string(guest::kGuestGateway),
          // The job's resolv.conf names this address; passt sends it to the host's resolver.
          "--dns-forward", std::string(guest::kGuestNameserver)};
}

Result<UserNetwork> start_user_network(const std::filesystem::path& passt, const std::filesystem::path& log) {
  int pair[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) != 0)
    return fail(Error::from_errno("socketpair for the VM's network"));
  sys::Fd passt_end(pair[0]);
  sys::Fd vmm_end(pair[1]);
  IGNITE_TRY_ASSIGN(sys::ChildProcess child, spawn_passing(passt_argv(passt, kJailFirstFd), log, {passt_end.get()}));
  return UserNetwork{std::move(child), std::move(vmm_end)};
}

}  // namespace ignite::sandbox::microvm
