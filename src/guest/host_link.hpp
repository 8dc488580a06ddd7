// How the agent reaches the host, as the kernel command line says (guest::BootArgs): the byte
// stream it speaks the protocol on, and the host's read-only share at /host.
#pragma once
#include "core/result.hpp"
#include "guest/protocol.hpp"
#include "sys/fd.hpp"

namespace ignite::guest {

// The virtio-serial port named kPortName (QEMU), or a vsock connection to the host (CID 2) on
// args.vsock_port (Firecracker: the host listens on <uds_path>_<port>). Retried for ~2 s while
// the device is not there yet.
Result<sys::Fd> open_host_channel(const BootArgs& args);

// The share at `target`, read-only: the 9p export "hostroot", or the squashfs images on the
// virtio-blk disks (their union, in the disks' order, when there are several).
Status mount_host_share(const BootArgs& args, const char* target);

}  // namespace ignite::guest
