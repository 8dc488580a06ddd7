#include "guest/protocol.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <utility>
#include <limits>

#include <nlohmann/json.hpp>

#include "core/json_limits.hpp"

namespace ignite::guest {
namespace {

using json = nlohmann::json;

// JSON nesting of a valid message: the job object, its arrays, their objects.
constexpr std::size_t kMaxDepth = 8;

constexpr std::string_view kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

Error bad(std::string_view what) { return {ErrorCode::invalid_argument, "agent protocol: " + std::string(what)}; }

// Field readers: a missing field keeps the default; a field of another type or range fails.
class Fields {
 public:
  explicit Fields(const json& object) : o_(object) {}

  Status str(const char* key, std::string& out) const {
    auto it = o_.find(key);
    if (it == o_.end()) return ok();
    if (!it->is_string()) return fail(bad(std::string(key) + " is not a string"));
    out = it->get<std::string>();
    return ok();
  }
  Status bytes(const char* key, std::string& out) const {
    std::string text;
    IGNITE_TRY(str(key, text));
    IGNITE_TRY_ASSIGN(out, base64_decode(text));
    return ok();
  }
  template <typename T>
  Status num(const char* key, T& out) const {
    auto it = o_.find(key);
    if (it == o_.end()) return ok();
    if constexpr (std::is_floating_point_v<T>) {
      if (!it->is_number()) return fail(bad(std::string(key) + " is not a number"));
      out = it->get<T>();
    } else if constexpr (std::is_signed_v<T>) {
      if (!it->is_number_integer()) return fail(bad(std::string(key) + " is not an integer"));
      const auto v = it->get<std::int64_t>();
      if (v < std::numeric_limits<T>::min() || v > std::numeric_limits<T>::max())
        return fail(bad(std::string(key) + " is out of range"));
      out = static_cast<T>(v);
    } else {
      if (!it->is_number_unsigned()) return fail(bad(std::string(key) + " is not an unsigned integer"));
      const auto v = it->get<std::uint64_t>();
      if (v > std::numeric_limits<T>::max()) return fail(bad(std::string(key) + " is out of range"));
      out = static_cast<T>(v);
    }
    return ok();
  }
  Status flag(const char* key, bool& out) const {
    auto it = o_.find(key);
    if (it == o_.end()) return ok();
    if (!it->is_boolean()) return fail(bad(std::string(key) + " is not a boolean"));
    out = it->get<bool>();
    return ok();
  }
  Status strings(const char* key, std::vector<std::string>& out) const {
    auto it = o_.find(key);
    if (it == o_.end()) return ok();
    if (!it->is_array()) return fail(bad(std::string(key) + " is not an array"));
    out.clear();
    for (const auto& e : *it) {
      if (!e.is_string()) return fail(bad(std::string(key) + " holds a non-string"));
      out.push_back(e.get<std::string>());
    }
    return ok();
  }
  Result<const json*> objects(const char* key) const {
    auto it = o_.find(key);
    if (it == o_.end()) return static_cast<const json*>(nullptr);
    if (!it->is_array()) return fail(bad(std::string(key) + " is not an array"));
    for (const auto& e : *it)
      if (!e.is_object()) return fail(bad(std::string(key) + " holds a non-object"));
    return &*it;
  }

 private:
  const json& o_;
};

// replace: a string that is not UTF-8 (an argv byte string) must not throw; it is sent with U+FFFD.
using sandbox::native::OpKind;
constexpr std::pair<OpKind, std::string_view> kOpNames[] = {
    {OpKind::mkdir, "mkdir"}, {OpKind::mkfile, "mkfile"}, {OpKind::symlink, "symlink"},
    {OpKind::write_file, "write_file"}, {OpKind::bind, "bind"}, {OpKind::tmpfs, "tmpfs"},
    {OpKind::proc, "proc"}, {OpKind::mask, "mask"}, {OpKind::remount_ro, "remount_ro"},
    {OpKind::overlay, "overlay"}};

std::string_view op_name(OpKind kind) {
  for (const auto& [k, name] : kOpNames)
    if (k == kind) return name;
  return "?";
}

Result<OpKind> op_kind(const std::string& name) {
  for (const auto& [k, n] : kOpNames)
    if (n == name) return k;
  return fail(bad("an unknown mount step '" + name.substr(0, 32) + "'"));
}

constexpr std::pair<FileKind, std::string_view> kFileKinds[] = {
    {FileKind::dir, "dir"},     {FileKind::file, "file"},     {FileKind::symlink, "symlink"}, {FileKind::fifo, "fifo"},
    {FileKind::socket, "socket"}, {FileKind::device, "device"}, {FileKind::other, "other"}};

std::string_view file_kind_name(FileKind kind) {
  for (const auto& [k, name] : kFileKinds)
    if (k == kind) return name;
  return "other";
}

Result<FileMessage> decode_file(const json& j) {
  FileMessage m;
  Fields f(j);
  std::string kind;
  IGNITE_TRY(f.bytes("path", m.path));
  IGNITE_TRY(f.str("kind", kind));
  IGNITE_TRY(f.num("mode", m.mode));
  IGNITE_TRY(f.num("size", m.size));
  IGNITE_TRY(f.bytes("link", m.link));
  bool known = false;
  for (const auto& [k, name] : kFileKinds)
    if (name == kind) m.kind = k, known = true;
  if (!known) return fail(bad("a file of an unknown kind '" + kind.substr(0, 32) + "'"));
  if (m.mode > 07777) return fail(bad("a file mode out of range"));
  return m;
}

std::string dump(const json& j) { return encode_frame(j.dump(-1, ' ', false, json::error_handler_t::replace)); }

Result<JobMessage> decode_job(const json& j) {
  JobMessage m;
  Fields f(j);
  IGNITE_TRY(f.strings("argv", m.argv));
  IGNITE_TRY(f.strings("env", m.env));
  IGNITE_TRY(f.str("workdir", m.workdir));
  IGNITE_TRY(f.str("root", m.root));
  IGNITE_TRY(f.str("outputDir", m.output_dir));
  IGNITE_TRY(f.num("outputMaxBytes", m.output_max_bytes));
  IGNITE_TRY(f.num("outputMaxEntries", m.output_max_entries));
  IGNITE_TRY(f.num("outputMaxDepth", m.output_max_depth));
  IGNITE_TRY(f.num("uid", m.uid));
  IGNITE_TRY(f.num("gid", m.gid));
  IGNITE_TRY(f.bytes("stdin", m.stdin_data));
  IGNITE_TRY(f.num("wallMs", m.wall_ms));
  IGNITE_TRY(f.num("memoryBytes", m.memory_bytes));
  IGNITE_TRY(f.num("cpuCores", m.cpu_cores));
  IGNITE_TRY(f.num("maxProcesses", m.max_processes));
  IGNITE_TRY(f.num("maxOutputBytes", m.max_output_bytes));
  IGNITE_TRY(f.num("maxFileBytes", m.max_file_bytes));
  IGNITE_TRY(f.num("tmpBytes", m.tmp_bytes));
  IGNITE_TRY(f.num("maxOpenFiles", m.max_open_files));
  IGNITE_TRY(f.num("stackBytes", m.stack_bytes));
  IGNITE_TRY_ASSIGN(const json* plan, f.objects("plan"));
  if (plan)
    for (const auto& e : *plan) {
      sandbox::native::MountOp op;
      Fields step(e);
      std::string kind;
      IGNITE_TRY(step.str("kind", kind));
      IGNITE_TRY_ASSIGN(op.kind, op_kind(kind));
      IGNITE_TRY(step.str("source", op.source));
      IGNITE_TRY(step.str("target", op.target));
      IGNITE_TRY(step.bytes("data", op.data));
      IGNITE_TRY(step.flag("writable", op.writable));
      IGNITE_TRY(step.flag("optional", op.optional));
      IGNITE_TRY(step.flag("isDir", op.is_dir));
      IGNITE_TRY(step.flag("executable", op.executable));
      m.plan.push_back(std::move(op));
    }
  IGNITE_TRY(f.bytes("seccomp", m.seccomp));
  IGNITE_TRY(f.flag("seccompNotify", m.seccomp_notify));
  IGNITE_TRY(f.bytes("seed", m.seed));
  IGNITE_TRY(f.num("realtimeNs", m.realtime_ns));
  IGNITE_TRY(f.flag("warm", m.warm));
  IGNITE_TRY(f.strings("drops", m.drops));
  for (const auto& d : m.drops)
    if (!is_drop_path(d, true)) return fail(bad("a drop dir that is not " + std::string(kDropsRoot) + "/<index>"));
  if (m.argv.empty()) return fail(bad("the job has no argv"));
  // Whole sock_filter instructions (8 bytes each), as many as the kernel takes (BPF_MAXINSNS).
  if (m.seccomp.empty() || m.seccomp.size() % 8 != 0 || m.seccomp.size() / 8 > 4096)
    return fail(bad("the job has no usable seccomp program"));
  if (m.seed.size() < kMinSeedBytes || m.seed.size() > kMaxSeedBytes) return fail(bad("the job has no usable seed"));
  return m;
}

Result<HandOffMessage> decode_handoff(const json& j) {
  HandOffMessage m;
  Fields f(j);
  IGNITE_TRY(f.bytes("stdin", m.stdin_data));
  IGNITE_TRY_ASSIGN(const json* entries, f.objects("entries"));
  if (entries)
    for (const auto& e : *entries) {
      HandOffEntry entry;
      Fields field(e);
      IGNITE_TRY(field.bytes("path", entry.path));
      IGNITE_TRY(field.flag("dir", entry.dir));
      IGNITE_TRY(field.flag("executable", entry.executable));
      IGNITE_TRY(field.bytes("data", entry.data));
      if (!is_drop_path(entry.path)) return fail(bad("a hand-off entry outside the drop dirs"));
      m.entries.push_back(std::move(entry));
    }
  return m;
}

Result<ResultMessage> decode_result(const json& j) {
  ResultMessage m;
  Fields f(j);
  IGNITE_TRY(f.str("outcome", m.outcome));
  IGNITE_TRY(f.num("exitCode", m.exit_code));
  IGNITE_TRY(f.num("signal", m.signal));
  IGNITE_TRY(f.flag("stdoutTruncated", m.stdout_truncated));
  IGNITE_TRY(f.flag("stderrTruncated", m.stderr_truncated));
  IGNITE_TRY(f.num("wallUs", m.wall_us));
  IGNITE_TRY(f.num("cpuUs", m.cpu_us));
  IGNITE_TRY(f.num("peakMemoryBytes", m.peak_memory_bytes));
  IGNITE_TRY(f.num("pidsPeak", m.pids_peak));
  IGNITE_TRY(f.flag("outputIncomplete", m.output_incomplete));
  IGNITE_TRY(f.str("detail", m.detail));
  IGNITE_TRY(f.num("blockedNr", m.blocked_nr));
  IGNITE_TRY(f.num("blockedArch", m.blocked_arch));
  return m;
}

}  // namespace

bool is_drop_path(std::string_view path, bool whole) {
  if (path.substr(0, kDropsRoot.size()) != kDropsRoot || path.find('\0') != std::string_view::npos) return false;
  std::string_view rest = path.substr(kDropsRoot.size());
  std::size_t components = 0;
  while (!rest.empty()) {
    if (rest.front() != '/') return false;
    rest.remove_prefix(1);
    const std::string_view name = rest.substr(0, rest.find('/'));
    rest.remove_prefix(name.size());
    if (name.empty() || name == "." || name == "..") return false;
    if (components++ == 0 && name.find_first_not_of("0123456789") != std::string_view::npos) return false;
  }
  return whole ? components == 1 : components >= 2;
}

std::string encode_frame(std::string_view payload) {
  const auto n = static_cast<std::uint32_t>(payload.size());
  std::string out;
  out.reserve(4 + payload.size());
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((n >> shift) & 0xff));
  out.append(payload);
  return out;
}

Result<std::optional<std::string>> FrameReader::next() {
  if (buffered() < 4) return std::optional<std::string>();
  std::uint32_t n = 0;
  for (std::size_t i = 0; i < 4; ++i) n = (n << 8) | static_cast<unsigned char>(buf_[pos_ + i]);
  if (n > max_) return fail(bad("a frame of " + std::to_string(n) + " bytes is over the limit of " + std::to_string(max_)));
  if (buffered() < 4 + std::size_t{n}) return std::optional<std::string>();
  std::string frame = buf_.substr(pos_ + 4, n);
  pos_ += 4 + std::size_t{n};
  // Drop consumed bytes once they are most of the buffer, so a long stream stays linear.
  if (pos_ > 4096 && pos_ * 2 > buf_.size()) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  return std::optional<std::string>(std::move(frame));
}

Result<std::string> base64_decode(std::string_view text) {
  static const std::array<int, 256> table = [] {
    std::array<int, 256> t{};
    t.fill(-1);
    for (std::size_t i = 0; i < kAlphabet.size(); ++i) t[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int>(i);
    return t;
  }();
  if (text.size() % 4 != 0) return fail(bad("base64 of a length that is not a multiple of 4"));
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    const std::size_t pad = last ? (text[i + 3] == '=' ? (text[i + 2] == '=' ? 2u : 1u) : 0u) : 0u;
    std::uint32_t v = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      int d = 0;
      if (k < 4 - pad) {
        d = table[static_cast<unsigned char>(text[i + k])];
        if (d < 0) return fail(bad("a byte outside base64's alphabet"));
      }
      v = (v << 6) | static_cast<std::uint32_t>(d);
    }
    out.push_back(static_cast<char>((v >> 16) & 0xff));
    if (pad < 2) out.push_back(static_cast<char>((v >> 8) & 0xff));
    if (pad < 1) out.push_back(static_cast<char>(v & 0xff));
  }
  return out;
}

std::vector<std::string_view> cmdline_words(std::string_view cmdline) {
  std::vector<std::string_view> words;
  std::size_t at = 0;
  while (at < cmdline.size()) {
    const std::size_t end = std::min(cmdline.find_first_of(" \n", at), cmdline.size());
    if (end > at) words.push_back(cmdline.substr(at, end - at));
    at = end + 1;
  }
  return words;
}

BootArgs parse_boot_args(std::string_view cmdline) {
  BootArgs args;
  for (const std::string_view word : cmdline_words(cmdline)) {
    if (word.substr(0, kShareArg.size()) == kShareArg) args.share_disks = word.substr(kShareArg.size()) == "disks";
    if (word.substr(0, kNetArg.size()) == kNetArg) args.network = word.substr(kNetArg.size()) == "user";
    if (word.substr(0, kVsockArg.size()) == kVsockArg) {
      std::uint32_t port = 0;
      const auto digits = word.substr(kVsockArg.size());
      const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), port);
      args.vsock_port = ec == std::errc{} && ptr == digits.data() + digits.size() ? port : 0;
    }
  }
  return args;
}

std::string hello_frame() { return dump({{"type", "hello"}, {"version", kProtocolVersion}}); }

std::string job_frame(const JobMessage& m) {
  json plan = json::array();
  for (const auto& op : m.plan)
    plan.push_back({{"kind", op_name(op.kind)}, {"source", op.source}, {"target", op.target},
                    {"data", base64_encode(op.data)}, {"writable", op.writable}, {"optional", op.optional},
                    {"isDir", op.is_dir}, {"executable", op.executable}});
  return dump({{"type", "job"},
               {"version", kProtocolVersion},
               {"argv", m.argv},
               {"env", m.env},
               {"workdir", m.workdir},
               {"root", m.root},
               {"plan", std::move(plan)},
               {"outputDir", m.output_dir},
               {"outputMaxBytes", m.output_max_bytes},
               {"outputMaxEntries", m.output_max_entries},
               {"outputMaxDepth", m.output_max_depth},
               {"uid", m.uid},
               {"gid", m.gid},
               {"stdin", base64_encode(m.stdin_data)},
               {"wallMs", m.wall_ms},
               {"memoryBytes", m.memory_bytes},
               {"cpuCores", m.cpu_cores},
               {"maxProcesses", m.max_processes},
               {"maxOutputBytes", m.max_output_bytes},
               {"maxFileBytes", m.max_file_bytes},
               {"tmpBytes", m.tmp_bytes},
               {"maxOpenFiles", m.max_open_files},
               {"stackBytes", m.stack_bytes},
               {"seccomp", base64_encode(m.seccomp)},
               {"seccompNotify", m.seccomp_notify},
               {"seed", base64_encode(m.seed)},
               {"realtimeNs", m.realtime_ns},
               {"warm", m.warm},
               {"drops", m.drops}});
}

// Paths are byte strings (a name need not be UTF-8): base64, never U+FFFD.
std::string handoff_frame(const HandOffMessage& m) {
  json entries = json::array();
  for (const auto& e : m.entries)
    entries.push_back({{"path", base64_encode(e.path)}, {"dir", e.dir}, {"executable", e.executable},
                       {"data", base64_encode(e.data)}});
  return dump({{"type", "handoff"}, {"entries", std::move(entries)}, {"stdin", base64_encode(m.stdin_data)}});
}

std::string output_frame(Stream stream, std::string_view data) {
  return dump({{"type", "output"}, {"stream", stream == Stream::out ? "out" : "err"}, {"data", base64_encode(data)}});
}

std::string result_frame(const ResultMessage& m) {
  return dump({{"type", "result"},
               {"outcome", m.outcome},
               {"exitCode", m.exit_code},
               {"signal", m.signal},
               {"stdoutTruncated", m.stdout_truncated},
               {"stderrTruncated", m.stderr_truncated},
               {"wallUs", m.wall_us},
               {"cpuUs", m.cpu_us},
               {"peakMemoryBytes", m.peak_memory_bytes},
               {"pidsPeak", m.pids_peak},
               {"outputIncomplete", m.output_incomplete},
               {"detail", m.detail},
               {"blockedNr", m.blocked_nr},
               {"blockedArch", m.blocked_arch}});
}

std::string error_frame(std::string_view message) {
  return dump({{"type", "error"}, {"message", message}});
}

// The path and the link are byte strings (a name need not be UTF-8): base64, never U+FFFD.
std::string file_frame(const FileMessage& m) {
  return dump({{"type", "file"},
               {"path", base64_encode(m.path)},
               {"kind", file_kind_name(m.kind)},
               {"mode", m.mode},
               {"size", m.size},
               {"link", base64_encode(m.link)}});
}

std::string file_data_frame(std::string_view bytes) {
  return dump({{"type", "fileData"}, {"data", base64_encode(bytes)}});
}

Result<Message> decode(std::string_view payload) {
  IGNITE_TRY_ASSIGN(json j, parse_json_bounded(payload, kMaxDepth));
  if (!j.is_object()) return fail(bad("a frame that is not a JSON object"));
  Message m;
  Fields f(j);
  IGNITE_TRY(f.str("type", m.type));
  if (m.type == "hello" || m.type == "job") {
    IGNITE_TRY(f.num("version", m.version));
    if (m.version != kProtocolVersion)
      return fail(bad("version " + std::to_string(m.version) + " (this side speaks " + std::to_string(kProtocolVersion) + ")"));
    if (m.type == "job") {
      IGNITE_TRY_ASSIGN(m.job, decode_job(j));
    }
  } else if (m.type == "handoff") {
    IGNITE_TRY_ASSIGN(m.handoff, decode_handoff(j));
  } else if (m.type == "output") {
    std::string stream;
    IGNITE_TRY(f.str("stream", stream));
    if (stream != "out" && stream != "err") return fail(bad("an output frame for stream '" + stream + "'"));
    m.stream = stream == "out" ? Stream::out : Stream::err;
    IGNITE_TRY(f.bytes("data", m.data));
  } else if (m.type == "file") {
    IGNITE_TRY_ASSIGN(m.file, decode_file(j));
  } else if (m.type == "fileData") {
    IGNITE_TRY(f.bytes("data", m.data));
  } else if (m.type == "result") {
    IGNITE_TRY_ASSIGN(m.result, decode_result(j));
  } else if (m.type == "error") {
    IGNITE_TRY(f.str("message", m.data));
  } else {
    return fail(bad("an unknown frame type '" + m.type.substr(0, 32) + "'"));
  }
  return m;
}

}  // namespace ignite::guest
