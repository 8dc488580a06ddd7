// A run's output dir (SandboxSpec::output) as every backend hands it over: where it goes (a
// cold spec's host_dest, or a warm slot's Job::output_dest) and how what the program left
// there is taken out, once nothing of the sandbox can write to it any more.
#pragma once
#include <filesystem>

#include "core/execution_result.hpp"
#include "core/result.hpp"
#include "core/spec.hpp"
#include "sandbox/backend.hpp"

namespace ignite::sandbox {

// Where the output dir goes: a warm slot's job says; a cold spec says itself. internal when
// the spec has an output dir and neither names an absolute path.
Result<std::filesystem::path> output_destination(const SandboxSpec& spec, const Job& job);

// Copies the tree under `dir` (an fd of the sandbox's output tmpfs; everything in the sandbox
// is dead now) to `dest` without following anything planted (sys::copy_tree_out), into
// r.output. A hostile tree (a FIFO, too deep) is the program's failure: lenient (a program's
// /out), r.output_error says so; else an error when the program itself succeeded, and just no
// output when it did not. No `dir` (never handed over): an error only for a program that
// succeeded.
Status take_output(const OutputDir& o, const std::filesystem::path& dest, int dir, ExecutionResult& r);

}  // namespace ignite::sandbox
