// A run's output dir (SandboxSpec::output) as every backend hands it over: where it goes (a
// cold spec's host_dest, or a warm slot's Job::output_dest) and how what the program left
// there is taken out, once nothing of the sandbox can write to it any more.
#pragma once
#include <filesystem>

#include "core/execution_result.hpp"
#include "core/result.hpp"
#include "core/spec.hpp"
#include "sandbox/backend.hpp"
#include "sys/tree_budget.hpp"

namespace ignite::sandbox {

// Where the output dir goes: a warm slot's job says; a cold spec says itself. internal when
// the spec has an output dir and neither names an absolute path.
Result<std::filesystem::path> output_destination(const SandboxSpec& spec, const Job& job);

// The bounds of the tree the program may leave in `o`: what copy_tree_out checks here, and
// what the microvm guest agent is told to stream (the same numbers on both sides).
sys::TreeLimits output_tree_limits(const OutputDir& o);

// Copies the tree under `dir` (an fd of the sandbox's output tmpfs; everything in the sandbox
// is dead now) to `dest` without following anything planted (sys::copy_tree_out), into
// r.output. A hostile tree (a FIFO, too deep) is the program's failure: lenient (a program's
// /out), r.output_error says so; else an error when the program itself succeeded, and just no
// output when it did not. No `dir` (never handed over): an error only for a program that
// succeeded.
Status take_output(const OutputDir& o, const std::filesystem::path& dest, int dir, ExecutionResult& r);

// What take_output does with a tree it refused (`why`, from copy_tree_out or a check with the
// same words, e.g. the microvm host's on a guest's stream): lenient, r.output_error says so;
// else an error when the program itself succeeded, and just no output when it did not.
Status refuse_output(const OutputDir& o, const Error& why, ExecutionResult& r);

}  // namespace ignite::sandbox
