// The guest's network of a `network: true` run (ignite.net=user): a NIC on the host's user-mode
// network (passt, sandbox/microvm/user_network.hpp), brought
// up by the agent at fixed addresses (protocol.hpp: kGuestAddress, kGuestGateway), with the
// loopback. A run without it has no NIC at all (the host starts QEMU with -nic none) and its
// loopback stays down, as native's fresh network namespace.
#pragma once
#include "core/result.hpp"

namespace ignite::guest {

// Loopback up; the one NIC that is not loopback up at kGuestAddress/kGuestNetmask, the default
// route through kGuestGateway. Waits ~2 s for the NIC to be probed.
Status bring_up_user_network();

}  // namespace ignite::guest
