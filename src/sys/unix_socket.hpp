// Unix-domain sockets by path: the address (checked against sun_path's size) and a listener.
// Errors name the socket's file name, not its dir (callers' dirs are private host paths).
#pragma once
#include <sys/types.h>
#include <sys/un.h>

#include <filesystem>

#include "core/result.hpp"
#include "sys/fd.hpp"

namespace ignite::sys {

// internal when `path` does not fit sun_path.
Result<sockaddr_un> unix_address(const std::filesystem::path& path);

// A socket of `type` (SOCK_STREAM, SOCK_SEQPACKET) bound at `path` (which must not exist),
// non-blocking and close-on-exec, its file chmod'ed to `mode`, listening with a backlog of 1.
Result<Fd> listen_unix(const std::filesystem::path& path, int type, mode_t mode);

}  // namespace ignite::sys
