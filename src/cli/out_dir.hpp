// `ignite run|exec --out DIR`: the files the program left in /out, written under DIR.
#pragma once
#include <filesystem>

#include "core/result.hpp"
#include "engine/job.hpp"

namespace ignite::cli {

// Creates DIR if missing and writes each of report.files under it (subdirectories as the
// paths say). Nothing is followed: a path component or file that is a symlink in DIR already
// is refused, so a program cannot choose a name that writes through a link. Files are 0644.
Status write_out_dir(const engine::JobReport& report, const std::filesystem::path& dir);

}  // namespace ignite::cli
