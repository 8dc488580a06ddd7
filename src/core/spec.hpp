// SandboxSpec: everything a backend needs to run one process, as a plain comparable value.
#pragma once
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
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

// What a backend accepts at most, whatever its caller asks (the operator's ceilings are lower).
inline constexpr Limits kBackendCeilings{.wall_time = std::chrono::hours(1),
                                         .memory_bytes = 64ull << 30,
                                         .cpu_cores = 64,
                                         .max_processes = 4096,
                                         .max_output_bytes = 64ull << 20,
                                         .max_file_bytes = 1ull << 30,
                                         .tmp_bytes = 1ull << 30,
                                         .max_open_files = 65536,
                                         .stack_bytes = 64ull << 20,
                                         .network = true};

// A read-only (unless `writable`) bind of a host path into the sandbox.
struct Mount {
  std::filesystem::path source;  // absolute, on the host
  std::filesystem::path target;  // absolute, inside the sandbox
  bool writable = false;
  // The source is this run's alone (a staging dir of ours): a read-only mount binds it as it is,
  // since it shares no inode with another run anyway (no per-run overlay needed).
  bool exclusive = false;
  // One of the runtime's own files (runtime::Installed::mounts): a backend that starts from an
  // image (docker) finds it in the runtime's image instead (SandboxSpec::runtime_image).
  bool runtime = false;
  friend bool operator==(const Mount&, const Mount&) = default;
};

// A read-only file the backend creates inside the sandbox with this content (large input,
// generated config): nothing of the host is bound for it.
struct InlineFile {
  std::filesystem::path target;  // absolute, inside the sandbox
  std::string content;
  bool executable = false;       // mode 0755, not 0644 (a static bootstrap of ours); read-only anyway
  friend bool operator==(const InlineFile&, const InlineFile&) = default;
};

// A writable, size-capped directory inside the sandbox whose contents leave it when the run
// ends: the backend copies what the program left there into `host_dest` without following
// anything planted (symlinks are copied as links; devices, FIFOs and sockets are refused), every
// file read-only with no special bits and owned by the caller. Its pages count against the
// run's memory limit.
struct OutputDir {
  std::filesystem::path target = "/out";  // inside the sandbox
  std::filesystem::path host_dest;        // an existing, empty, private dir of the caller
  std::uint64_t max_bytes = 64ull << 20;  // the tmpfs size
  std::uint32_t max_entries = 65536;      // files, dirs and links together
  std::vector<InlineFile> seed;           // files placed in it before the program starts
  // What a tree copy_tree_out refuses (a FIFO, a device, over a limit) does to the run. false:
  // the run fails (a build step's output is its product). true: the result keeps its status
  // and says why in ExecutionResult::output_error, with no files (a program's /out).
  bool lenient = false;
  friend bool operator==(const OutputDir&, const OutputDir&) = default;
};

// Outbound network through Ignite's egress proxy only (dependency installs). The run gets a
// network namespace of its own (no host loopback, no host abstract unix sockets) in which
// 127.0.0.1:<port> is an HTTP CONNECT proxy served by the supervisor; the proxy connects only
// to public addresses, plus the networks the operator allows.
struct Egress {
  std::uint16_t port = 3128;
  std::vector<std::string> allow;  // CIDRs ("10.1.0.0/16") reachable besides public addresses
  friend bool operator==(const Egress&, const Egress&) = default;
};

struct SandboxSpec {
  std::vector<std::string> argv;  // argv[0]: absolute path inside the sandbox
  std::vector<std::string> env;   // "KEY=value"; nothing is inherited from the host
  std::filesystem::path workdir = "/app";
  std::vector<Mount> mounts;
  std::vector<InlineFile> files;
  std::optional<OutputDir> output;
  std::optional<Egress> egress;  // with limits.network false
  std::string stdin_data;
  Limits limits;
  // A warm slot: argv is a bootstrap of ours (runtimes/warm/) that loads the runtime, says it is
  // ready and then receives its Job on stdin (sandbox/handoff.hpp). Not with egress; its output
  // dir (unseeded) starts empty and is copied to the Job's output_dest.
  bool warm = false;
  // Empty read-only directories the backend fills with a Job's files at hand-off (a warm slot's
  // /app for ad-hoc code, /run/ignite for the input file).
  std::vector<std::filesystem::path> drop_dirs;
  // The image identity, for backends that start from an image (docker): the runtime whose image
  // holds the mounts marked `runtime` ("python@3.11.2"; empty: none is needed, the program is a
  // static binary), or a local image the service names instead (`image:` in service.yaml),
  // which must hold the runtime at the same paths. The native backend binds the mounts.
  std::string runtime_image;
  std::string image;

  friend bool operator==(const SandboxSpec&, const SandboxSpec&) = default;
};

// Pure checks (no I/O). Returns invalid_argument naming the first problem: empty argv,
// relative paths, ".." components, "=" missing in env, zero/over-ceiling limits.
Status validate(const SandboxSpec& spec, const Limits& ceilings);

}  // namespace ignite
