// A QMP client (QEMU's JSON control protocol over a Unix socket), just what VM templates need:
// stop a booted VM and save its state, restore a clone and let it run. Every command waits for
// its own answer, bounded by a deadline and by QEMU's life (its pidfd).
#pragma once
#include <chrono>
#include <filesystem>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/result.hpp"
#include "sys/child_process.hpp"
#include "sandbox/microvm/vmm_process.hpp"
#include "sys/fd.hpp"

namespace ignite::sandbox::microvm {

class Qmp {
 public:
  // Connects, reads QEMU's greeting and leaves the capabilities negotiation mode.
  static Result<Qmp> open(const std::filesystem::path& socket, const sys::ChildProcess& qemu, Deadline deadline);

  // Runs `command` and returns its "return" value; an "error" answer is `internal` with QEMU's
  // class and description (they name no guest data). Events QEMU sends meanwhile are skipped.
  Result<nlohmann::json> execute(std::string_view command, const nlohmann::json& arguments, Deadline deadline);
  // `getfd`: hands `fd` to QEMU under `name` (SCM_RIGHTS with the command's bytes), for
  // migration URIs "fd:<name>".
  Status pass_fd(std::string_view name, int fd, Deadline deadline);
  // Polls query-migrate until "completed"; "failed" or "cancelled" is an error.
  Status wait_for_migration(Deadline deadline);

 private:
  Qmp(sys::Fd fd, const sys::ChildProcess& qemu) : fd_(std::move(fd)), qemu_(&qemu) {}
  Status send(const std::string& line, int fd_to_pass);
  Result<nlohmann::json> next_answer(Deadline deadline);  // "return" or "error", events skipped
  Result<std::string> next_line(Deadline deadline);

  sys::Fd fd_;
  const sys::ChildProcess* qemu_;
  std::string buf_;
};

}  // namespace ignite::sandbox::microvm
