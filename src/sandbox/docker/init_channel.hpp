// The host's end of ignite-docker-init's protocol (runtimes/docker/init_protocol.h): a listening
// socket in the slot's control dir, bound into the container, that the init connects to.
#pragma once
#include <linux/filter.h>
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <vector>

#include "core/result.hpp"
#include "sandbox/native/child.hpp"
#include "sys/fd.hpp"

namespace ignite::sandbox::docker {

struct InitConnection {
  sys::Fd sock;
  pid_t pid = -1;  // the init's pid in our PID namespace (SO_PEERCRED)
};

class InitListener {
 public:
  // `dir/init.sock`, connectable by any uid (the container's user): `dir` is ours and private
  // to this slot, and only its container sees it.
  static Result<InitListener> listen(const std::filesystem::path& dir);

  // Waits for the one connection, then unlinks the socket file and stops listening: nothing
  // else can connect afterwards. internal when the init did not come.
  Result<InitConnection> accept(std::chrono::milliseconds timeout);

 private:
  InitListener(sys::Fd fd, std::filesystem::path path) : fd_(std::move(fd)), path_(std::move(path)) {}
  sys::Fd fd_;
  std::filesystem::path path_;
};

// What the init needs to start the program. `fds` in the protocol's order (the notify socket
// last, only with `listener`).
struct InitStart {
  std::vector<int> fds;
  std::vector<native::RlimitSetting> rlimits;
  const sock_fprog* filter = nullptr;
  bool listener = false;
};

// One message with everything: the init reads it whole and starts the program.
Status send_start(int sock, const InitStart& start);

}  // namespace ignite::sandbox::docker
