// probe_spec: a SandboxSpec that runs the static probe (tests/probes) at /probe with modest
// limits; the test target defines IGNITE_PROBE as the probe's host path.
#pragma once
#include <chrono>
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

}  // namespace ignite::testing
