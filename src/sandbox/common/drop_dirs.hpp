// Drop dirs: the empty, read-only directories of a warm slot (SandboxSpec::drop_dirs) that the
// backend fills with a Job's files at hand-off, through host directories of its own behind them.
#pragma once
#include <filesystem>
#include <vector>

#include "core/result.hpp"
#include "sandbox/backend.hpp"

namespace ignite::sandbox {

// Writes job.files and copies job.trees into the host dirs behind the drop dirs (`hosts[i]`
// is behind `drop_dirs[i]`). invalid_argument for a target in none of them, or not a plain
// absolute path; a staged tree holding a link is refused.
Status place_job_files(const Job& job, const std::vector<std::filesystem::path>& drop_dirs,
                       const std::vector<std::filesystem::path>& hosts);

// The host path behind `target`, when it is one of the drop dirs or inside one.
Result<std::filesystem::path> drop_host_path(const std::filesystem::path& target,
                                             const std::vector<std::filesystem::path>& drop_dirs,
                                             const std::vector<std::filesystem::path>& hosts);

}  // namespace ignite::sandbox
