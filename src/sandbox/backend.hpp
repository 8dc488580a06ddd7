// Backend: one isolation technology (native, docker, microvm) behind one interface.
//
// Two phases, as Sandbox2's RunAsync/AwaitResult and crun's create/start: start() builds a
// sandbox (namespaces, cgroup with limits, root filesystem, seccomp, the program loaded or ready
// to exec) and returns a Slot; Slot::run() hands it one job, supervises it to the end and
// measures it. A cold run is start() + run() back to back; a warm pool calls start() ahead of
// demand with a bootstrap of ours as the program (SandboxSpec::warm) and run() when a job comes.
#pragma once
#include <filesystem>
#include <functional>
#include <memory>
#include <stop_token>
#include <string_view>

#include "core/execution_result.hpp"
#include "core/result.hpp"
#include "core/spec.hpp"

namespace ignite::sandbox {

enum class Stream { out, err };

// Receives output chunks live, as the program writes them (already within the caps).
// Called from the thread inside Slot::run.
using OutputSink = std::function<void(Stream, std::string_view)>;

// What a slot runs. A cold slot's program is its spec's argv; it takes only stdin_data.
// A warm slot's bootstrap takes all of it and then is, for the program, what a cold start of
// the same runtime would have been (sandbox/handoff.hpp).
struct Job {
  std::vector<std::string> argv;  // the script's argv as the runtime shows it: [entry, args...]
  std::vector<std::string> env;   // the whole environment, "KEY=value"
  std::filesystem::path workdir = "/app";
  std::string stdin_data;
  std::vector<InlineFile> files;  // placed in one of the slot's drop_dirs before hand-off
  std::vector<Mount> trees;       // a host dir (ours, trusted) copied into the drop dir `target`
  // Where the slot's output dir (SandboxSpec::output, started empty) is copied to: the slot
  // spec's host_dest is left empty, so that one pool serves every job.
  std::filesystem::path output_dest;
};

// One started sandbox. Single use: run() once, then destroy it; the destructor kills what is
// left of the sandbox and removes everything it made. May be run and destroyed on another
// thread than the one that started it, as long as the starting thread lives on (PDEATHSIG).
class Slot {
 public:
  virtual ~Slot() = default;
  // Limits hold and usage counts from the hand-off. Errors as Backend::run.
  virtual Result<ExecutionResult> run(Job job, std::stop_token stop, const OutputSink& sink) = 0;
  // Memory the idle slot holds (for a pool's budget); 0 when unknown.
  virtual std::uint64_t resident_bytes() const { return 0; }
};

// Thread-safe: start() and run() are called concurrently, one call per sandbox.
class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string_view name() const noexcept = 0;

  // Builds one sandbox; for a warm spec, returns once the bootstrap said it is ready.
  // Errors mean the sandbox could not be provided (or, warm, the bootstrap did not come up).
  virtual Result<std::unique_ptr<Slot>> start(const SandboxSpec& spec) = 0;

  // A cold run: runs one sandboxed process to completion and releases everything it made.
  // Returns an Error only when the sandbox itself could not be provided; whatever the
  // untrusted program did is described by the ExecutionResult.
  Result<ExecutionResult> run(const SandboxSpec& spec, std::stop_token stop, const OutputSink& sink) {
    IGNITE_TRY_ASSIGN(std::unique_ptr<Slot> slot, start(spec));
    Job job;
    job.stdin_data = spec.stdin_data;
    Result<ExecutionResult> result = slot->run(std::move(job), stop, sink);
    retire(std::move(slot));
    return result;
  }

 protected:
  // What becomes of a cold run's slot when its run is over: destroyed here, unless the backend
  // finishes destroying it later (the native backend for one-shot commands,
  // NativeConfig::late_teardown).
  virtual void retire(std::unique_ptr<Slot> slot) { slot.reset(); }
};

}  // namespace ignite::sandbox
