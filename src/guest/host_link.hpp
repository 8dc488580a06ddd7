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

// The host's end of the channel and what has arrived on it.
struct HostChannel {
  int fd = -1;
  FrameReader* reader = nullptr;
  bool stream_ends = false;  // a read of 0 is the host's end (vsock), not "not connected yet"
};

// One read of the channel into its reader. An error when the read fails or the host ended the
// stream; virtio-serial reads 0 while the host is not connected: then it waits 5 ms and feeds
// nothing (the host comes back, or kills the VM).
Status read_host(const HostChannel& host);

// The share at `target`, read-only: the 9p export "hostroot", or the squashfs images on the
// virtio-blk disks (their union, in the disks' order, when there are several).
Status mount_host_share(const BootArgs& args, const char* target);

}  // namespace ignite::guest
