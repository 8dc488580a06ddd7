// The host <-> guest agent protocol of the microvm backend: length-prefixed JSON frames over one
// byte stream (virtio-serial under QEMU; the host reaches it as a Unix socket).
//
//   guest -> host  {"type":"hello","version":2}            once the agent is up
//   host  -> guest {"type":"job","version":4,...}          the one job of this VM (with a seed and the clock)
//   host  -> guest {"type":"handoff","entries":[...],"stdin":<base64>}   a warm job's files and
//                  stdin, once its program (a runtime's bootstrap) said it is ready
//   guest -> host  {"type":"output","stream":"out"|"err","data":<base64>}   as it is written
//   guest -> host  {"type":"file","path":"sub/b.bin","kind":"file","mode":420,"size":N}
//                  {"type":"fileData","data":<base64>}*   the file's N bytes, in chunks
//                  ... one "file" per entry the program left in the output dir, once it is dead
//   guest -> host  {"type":"result",...} or {"type":"error","message":...} then the VM powers off
//
// A frame is a 4-byte big-endian length and that many bytes of JSON. Pure logic, shared by the
// static agent (src/guest/agent*.cpp) and the host (src/sandbox/microvm/).
// Security: everything the guest sends is untrusted (the program may own the guest kernel):
// frames are bounded, parsed with a depth bound, and every field is type-checked and range-checked
// by the host before use; a malformed frame fails the run as an error, it is never guessed at.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/base64.hpp"
#include "core/result.hpp"
#include "sandbox/native/mount_plan.hpp"

namespace ignite::guest {

// 2: the job carries a seed and the host's clock (a guest restored from a template has neither).
// 3: a blocked call is named (JobMessage::seccomp_notify, ResultMessage::blocked_nr).
// 4: warm slots (JobMessage::warm and drops, the handoff frame).
inline constexpr int kProtocolVersion = 4;
// The largest frame either side accepts: a job carries the inline files and stdin (the request
// limits bound them far lower); output frames are small chunks.
inline constexpr std::uint32_t kMaxFrameBytes = 96u << 20;
// What the host accepts from the guest: output arrives in chunks of 64 KiB (base64: ~88 KiB),
// the result is small. Security: a hostile guest cannot make the host buffer more than this.
inline constexpr std::uint32_t kMaxGuestFrameBytes = 1u << 20;
// The raw bytes of one fileData frame (base64: ~88 KiB), far under kMaxGuestFrameBytes.
inline constexpr std::size_t kFileChunkBytes = 64 * 1024;
// The name QEMU gives the agent's virtio-serial port (/sys/class/virtio-ports/*/name).
inline constexpr std::string_view kPortName = "ignite.agent";
// The kernel command line tells the agent how it reaches the host. ignite.share=9p: the host's
// share over 9p (QEMU); ignite.share=disks: read-only squashfs images on the virtio-blk disks,
// mounted as one union (Firecracker has no 9p). ignite.vsock=PORT: the agent connects to the
// host (CID 2) on that vsock port instead of opening the virtio-serial port. ignite.net=user:
// the VM has a NIC on the host's user-mode network (a `network: true` run), which the agent brings
// up at the addresses below before it says hello; without the word, the VM has no NIC at all.
inline constexpr std::string_view kShareArg = "ignite.share=";
inline constexpr std::string_view kVsockArg = "ignite.vsock=";
inline constexpr std::string_view kNetArg = "ignite.net=";
// The user-mode network's addresses (passt's, user_network.hpp; QEMU's slirp defaults, kept):
// the guest, the gateway (passt; mapped to no host address), and the DNS forward.
inline constexpr std::string_view kGuestAddress = "10.0.2.15";
inline constexpr std::string_view kGuestNetmask = "255.255.255.0";
inline constexpr std::string_view kGuestGateway = "10.0.2.2";
inline constexpr std::string_view kGuestNameserver = "10.0.2.3";

struct BootArgs {
  bool share_disks = false;     // else 9p
  std::uint32_t vsock_port = 0;  // 0: the virtio-serial port
  bool network = false;          // a NIC on the user-mode network to bring up
};
// What /proc/cmdline says (words the host wrote; anything else in it is ignored).
BootArgs parse_boot_args(std::string_view cmdline);
// The kernel command line's words (split at spaces and the newline /proc/cmdline ends with).
std::vector<std::string_view> cmdline_words(std::string_view cmdline);

std::string encode_frame(std::string_view payload);

// Splits a byte stream into frames. feed() what arrived; next() returns a whole frame, nothing
// (need more bytes), or an error once the stream announced a frame over the limit.
class FrameReader {
 public:
  explicit FrameReader(std::uint32_t max_frame = kMaxFrameBytes) : max_(max_frame) {}
  void feed(std::string_view bytes) { buf_.append(bytes); }
  Result<std::optional<std::string>> next();
  std::size_t buffered() const noexcept { return buf_.size() - pos_; }

 private:
  std::uint32_t max_;
  std::string buf_;
  std::size_t pos_ = 0;
};

using ignite::base64_encode;  // core/base64.hpp; the decoder is the guest protocol's own
Result<std::string> base64_decode(std::string_view text);

// A warm slot's drop dirs (SandboxSpec::drop_dirs) live in the agent's own root as
// <kDropsRoot>/<index>: the job's plan binds each read-only where the program expects it, and
// the handoff frame fills them.
inline constexpr std::string_view kDropsRoot = "/drops";
// Whether `path` is kDropsRoot/<index> itself (`whole`) or a path inside one: absolute,
// '/'-separated, no empty, '.' or '..' component, no NUL.
bool is_drop_path(std::string_view path, bool whole = false);

// What the agent runs. The job's root is the native backend's mount plan (mount_plan.hpp), as
// data: the host computes it for the spec, the agent executes it step by step with the same code
// (mount_ops.cpp), then moves it over / and drops to `uid`.
struct JobMessage {
  std::vector<std::string> argv;
  std::vector<std::string> env;
  std::string workdir = "/app";
  std::string root = "/job";  // where the plan assembles the root (every target is under it)
  std::vector<sandbox::native::MountOp> plan;
  std::string output_dir;     // inside the root; the agent streams what the program left there
  // The bounds of that tree: the host's own (sandbox::output_tree_limits), so the agent stops
  // where the host would refuse it.
  std::uint64_t output_max_bytes = 0;
  std::uint32_t output_max_entries = 0;
  std::uint32_t output_max_depth = 0;
  unsigned uid = 60000, gid = 60000;
  std::string stdin_data;
  std::uint64_t wall_ms = 30000;
  std::uint64_t memory_bytes = 128ull << 20;
  double cpu_cores = 1.0;
  std::uint32_t max_processes = 64;
  std::uint64_t max_output_bytes = 1ull << 20;
  std::uint64_t max_file_bytes = 64ull << 20;
  std::uint64_t tmp_bytes = 64ull << 20;
  std::uint32_t max_open_files = 256;
  std::uint64_t stack_bytes = 8ull << 20;
  // The native backend's seccomp program (struct sock_filter instructions, raw), loaded by the
  // agent last before execve, as native's init does. Required. Its kill rules and foreign ABIs
  // either end the program with SIGSYS (the kernel's kill) or, with `seccomp_notify` (the
  // program's notify variant), stop the call for the agent, which notes which call it was and
  // kills the job, as native's supervisor does: the result then names it.
  std::string seccomp;
  bool seccomp_notify = false;
  // Fresh randomness from the host, mixed into the guest's pool and forcing a reseed of its
  // CRNG before anything of the job runs: every clone of one template starts with the same
  // kernel state, RNG included, so without it two clones would draw the same random bytes.
  // Required: kMinSeedBytes..kMaxSeedBytes.
  std::string seed;
  // The host's wall clock (CLOCK_REALTIME, ns) when it sent the job: a clone's clock stands
  // where its template was saved.
  std::uint64_t realtime_ns = 0;
  // A warm slot's job: the program is a runtime's bootstrap (sandbox/common/handoff.hpp). Its
  // stdin stays open and its clock, CPU count and output budget start at the handoff frame.
  bool warm = false;
  // The drop dirs the agent makes (each is_drop_path(d, true)) before the plan binds them.
  std::vector<std::string> drops;
};
inline constexpr std::size_t kMinSeedBytes = 32, kMaxSeedBytes = 512;

// How the job ended, as the agent saw it (mapped onto ignite::Outcome by the host).
struct ResultMessage {
  // exited | signaled | wall_time_exceeded | memory_exceeded | syscall_blocked
  std::string outcome = "exited";
  int exit_code = 0;
  int signal = 0;
  bool stdout_truncated = false;
  bool stderr_truncated = false;
  std::uint64_t wall_us = 0;
  std::uint64_t cpu_us = 0;
  std::uint64_t peak_memory_bytes = 0;
  std::uint32_t pids_peak = 0;
  // The agent could not read all of the output dir (an I/O error, not a refusal): the host
  // refuses the tree it got rather than return part of it.
  bool output_incomplete = false;
  std::string detail;
  // syscall_blocked: the call a kill rule stopped (seccomp_data's nr and AUDIT_ARCH_*).
  int blocked_nr = -1;
  std::uint32_t blocked_arch = 0;
  friend bool operator==(const ResultMessage&, const ResultMessage&) = default;
};

// A warm job's hand-off: the files of the job (each path inside one of the job's drops; dirs
// before what they hold) and the program's whole stdin (the bootstrap's header, then the job's).
struct HandOffEntry {
  std::string path;
  bool dir = false;
  bool executable = false;
  std::string data;  // files
  friend bool operator==(const HandOffEntry&, const HandOffEntry&) = default;
};
struct HandOffMessage {
  std::vector<HandOffEntry> entries;
  std::string stdin_data;
};

enum class Stream { out, err };

// One entry of the output dir, as the agent found it (lstat: a symlink is never followed).
// Only dir, file and symlink are kept; the others are sent so that the host refuses the tree
// in its own words, as copy_tree_out refuses a FIFO on native.
enum class FileKind { dir, file, symlink, fifo, socket, device, other };

struct FileMessage {
  std::string path;         // relative, '/'-separated; checked by the host, never trusted
  FileKind kind = FileKind::file;
  std::uint32_t mode = 0;   // permission bits (07777); the host keeps only "any x bit"
  std::uint64_t size = 0;   // files: the bytes that follow in fileData frames
  std::string link;         // symlinks: the target text, never resolved
  friend bool operator==(const FileMessage&, const FileMessage&) = default;
};

std::string hello_frame();
std::string job_frame(const JobMessage& job);
std::string handoff_frame(const HandOffMessage& handoff);
std::string output_frame(Stream stream, std::string_view data);
std::string result_frame(const ResultMessage& result);
std::string error_frame(std::string_view message);
std::string file_frame(const FileMessage& file);
std::string file_data_frame(std::string_view bytes);

// One decoded frame from the other side. Exactly one of the optionals is set, as `type` says.
struct Message {
  std::string type;  // hello | job | handoff | output | file | fileData | result | error
  int version = 0;   // hello, job
  std::optional<JobMessage> job;
  std::optional<HandOffMessage> handoff;
  std::optional<ResultMessage> result;
  std::optional<FileMessage> file;
  Stream stream = Stream::out;  // output
  std::string data;             // output, fileData: the bytes; error: the message
};

// Parses one frame's payload; invalid_argument naming the first problem.
Result<Message> decode(std::string_view payload);

}  // namespace ignite::guest
