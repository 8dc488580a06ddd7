// A `network: true` VM's NIC: passt, a user-mode network outside the VMM. QEMU's NIC is one
// end of a socket pair (-netdev stream on a descriptor), so QEMU keeps its empty network
// namespace; passt, in the host's, makes the guest's connections with its own sockets.
//
// Why passt and not QEMU's built-in slirp: slirp maps the gateway address to the host's
// loopback (a program in the VM could reach an unauthenticated `ignite serve` on 127.0.0.1,
// and ask it for a native run), opens host listeners for FTP PORT and IRC DCC, and needs QEMU
// in the host's network namespace, where abstract Unix sockets are. passt with --no-map-gw
// maps nothing to the host's loopback, forwards no port in, is IPv4 only here, and confines
// itself (its own namespaces, seccomp; root drops to nobody). It exits when QEMU's end closes.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "sys/child_process.hpp"
#include "sys/fd.hpp"

namespace ignite::sandbox::microvm {

// passt's command line for the VM's network (the guest's addresses: protocol.hpp), its end of
// the socket pair at descriptor `fd`.
std::vector<std::string> passt_argv(const std::filesystem::path& passt, int fd);

struct UserNetwork {
  sys::ChildProcess passt;  // killed and reaped when dropped
  sys::Fd vmm_end;          // the VMM's NIC: pass it to the VMM
};

// Starts passt for one VM, its output appended to `log`.
Result<UserNetwork> start_user_network(const std::filesystem::path& passt, const std::filesystem::path& log);

}  // namespace ignite::sandbox::microvm
