// A warm microVM slot's hand-off: the job's files, placed on the host in the slot's own drop
// dirs by the native and docker backends' code (sandbox/common/drop_dirs.hpp: its checks, its
// copy of a staged tree), then sent to the agent as one handoff frame, which writes them into
// the guest's drop dirs (guest::kDropsRoot) behind the program's read-only binds.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "guest/protocol.hpp"

namespace ignite::sandbox::microvm {

// Where the agent makes drop dir `index` in the guest.
std::string guest_drop_dir(std::size_t index);

// The entries under `drop_hosts` (ours: the slot's dirs, filled by place_job_files), as the
// guest's paths: drop_hosts[i]/a/b is <guest_drop_dir(i)>/a/b, each dir before what it holds.
// invalid_argument for anything but dirs and regular files; `unavailable` when the files are
// more than one frame carries (the job then runs cold: its files travel in the VM's share).
Result<std::vector<guest::HandOffEntry>> handoff_entries(const std::vector<std::filesystem::path>& drop_hosts);

}  // namespace ignite::sandbox::microvm
