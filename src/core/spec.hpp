// SandboxSpec: everything a backend needs to run one process, as a plain comparable value.
#pragma once
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace ignite {

using namespace std::chrono_literals;

// The smallest CPU quota the kernel accepts: CFS needs a quota of at least 1 ms per period, and
// Ignite's period is 100 ms. Below it, cpu.max / cpu.cfs_quota_us refuse the write (EINVAL).
inline constexpr double kMinCpuCores = 0.01;
inline constexpr std::string_view kMinCpuCoresReason =
    "the kernel's smallest CPU quota is 1 ms per 100 ms";

struct Limits {
  std::chrono::milliseconds wall_time = 30s;
  std::uint64_t memory_bytes = 128ull << 20;
  double cpu_cores = 1.0;                        // CPU quota, in cores
  std::uint32_t max_processes = 64;              // whole sandbox (cgroup pids + RLIMIT_NPROC)
  std::uint64_t max_output_bytes = 1ull << 20;   // per stream; excess is dropped and flagged
  std::uint64_t max_file_bytes = 64ull << 20;    // RLIMIT_FSIZE
  std::uint64_t tmp_bytes = 64ull << 20;         // size of the /tmp tmpfs
  std::uint32_t max_open_files = 256;            // RLIMIT_NOFILE
  std::uint64_t stack_bytes = 8ull << 20;        // RLIMIT_STACK
  bool network = false;

  friend bool operator==(const Limits&, const Limits&) = default;
};

// A read-only (unless `writable`) bind of a host path into the sandbox.
struct Mount {
  std::filesystem::path source;  // absolute, on the host
  std::filesystem::path target;  // absolute, inside the sandbox
  bool writable = false;
  friend bool operator==(const Mount&, const Mount&) = default;
};

struct SandboxSpec {
  std::vector<std::string> argv;  // argv[0]: absolute path inside the sandbox
  std::vector<std::string> env;   // "KEY=value"; nothing is inherited from the host
  std::filesystem::path workdir = "/app";
  std::vector<Mount> mounts;
  std::string stdin_data;
  Limits limits;

  friend bool operator==(const SandboxSpec&, const SandboxSpec&) = default;
};

// Pure checks (no I/O). Returns invalid_argument naming the first problem: empty argv,
// relative paths, ".." components, "=" missing in env, zero/over-ceiling limits.
Status validate(const SandboxSpec& spec, const Limits& ceilings);

}  // namespace ignite
