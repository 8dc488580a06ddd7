// probe_spec: a SandboxSpec that runs the static probe (tests/probes) at /probe with modest
// limits; the test target defines IGNITE_PROBE as the probe's host path.
#pragma once
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <string>
#include <vector>

#include "core/spec.hpp"

namespace ignite::testing {

inline SandboxSpec probe_spec(std::vector<std::string> args) {
  using namespace std::chrono_literals;
  SandboxSpec spec;
  spec.argv = {"/probe"};
  for (auto& a : args) spec.argv.push_back(std::move(a));
  spec.env = {"PATH=/usr/bin:/bin", "HOME=/tmp", "MARKER=inside"};
  spec.workdir = "/tmp";
  spec.mounts = {{IGNITE_PROBE, "/probe", false}};
  spec.limits.wall_time = 5s;
  spec.limits.memory_bytes = 64ull << 20;
  spec.limits.max_processes = 32;
  spec.limits.tmp_bytes = 16ull << 20;
  return spec;
}

// Whether this kernel runs the i386 ABI at all: the probe's `int80` on the host, unsandboxed.
// A kernel built or booted without IA32 emulation (ia32_emulation=0, some VM kernels) answers
// `int 0x80` with SIGSEGV before seccomp sees it; tests of the seccomp rule then cannot apply.
inline bool kernel_runs_i386_syscalls() {
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::execl(IGNITE_PROBE, IGNITE_PROBE, "int80", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid) return true;  // unknown: let the test say
  return !(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV);
}

}  // namespace ignite::testing
