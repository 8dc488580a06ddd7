// A program's /out (CONTRACT §1, §4): the writable, size-capped directory whose files come back
// in the result document. The backend copies what the program left there into a private dir of
// ours without following anything planted (sys::copy_tree_out); this part decides what of that
// the result carries.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/spec.hpp"
#include "engine/job.hpp"

namespace ignite::engine {

inline constexpr std::uint64_t kOutMaxBytes = 16ull << 20;         // the tmpfs; counts against memory
inline constexpr std::uint32_t kOutMaxEntries = 1000;              // files, dirs and links
inline constexpr std::uint64_t kOutMaxDocumentBytes = 8ull << 20;  // file contents in one result

// The /out every program run gets, on every backend (lenient: a tree the host refuses is
// reported, not fatal); host_dest is filled in per run.
void add_program_output(SandboxSpec& spec);

// Reads the regular files `result.output` lists under `dir` into report.files, in walk order,
// while their sizes add up to at most `max_bytes` (the rest: files_truncated); symlinks and
// dirs are not files and are left out. result.output_error becomes files_error.
void collect_output_files(const std::filesystem::path& dir, const ExecutionResult& result, JobReport& report,
                          std::uint64_t max_bytes = kOutMaxDocumentBytes);

// "image/png" from the name and the first bytes; text/plain for other valid UTF-8, else
// application/octet-stream.
std::string guess_mime_type(std::string_view path, std::string_view content);

}  // namespace ignite::engine
