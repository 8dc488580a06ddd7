#include "sandbox/native/child_wire.hpp"

#include <cstdint>
#include <cstring>

#include "sys/c_strings.hpp"

namespace ignite::sandbox::native {
namespace {

constexpr std::uint32_t kMagic = 0x49474331;  // "IGC1": bump with any change of the layout

class Writer {
 public:
  template <typename T>
  void pod(const T& v) {
    out_.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  void str(std::string_view s) {
    pod(static_cast<std::uint32_t>(s.size()));
    out_.append(s);
  }
  void strings(char* const* list) {
    std::uint32_t n = 0;
    while (list && list[n]) ++n;
    pod(n);
    for (std::uint32_t i = 0; i < n; ++i) str(list[i]);
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  template <typename T>
  bool pod(T& v) {
    if (in_.size() < sizeof v) return false;
    std::memcpy(&v, in_.data(), sizeof v);
    in_.remove_prefix(sizeof v);
    return true;
  }
  bool str(std::string& s) {
    std::uint32_t n = 0;
    if (!pod(n) || in_.size() < n) return false;
    s.assign(in_.substr(0, n));
    in_.remove_prefix(n);
    return true;
  }
  // A count of items of at least `min_bytes` each: never more than the bytes left could hold,
  // so a corrupt count cannot make us reserve gigabytes.
  bool count(std::uint32_t& n, std::size_t min_bytes) { return pod(n) && n <= in_.size() / min_bytes; }
  bool strings(std::vector<std::string>& out) {
    std::uint32_t n = 0;
    if (!count(n, sizeof(std::uint32_t))) return false;
    out.resize(n);
    for (auto& s : out) {
      if (!str(s)) return false;
    }
    return true;
  }
  bool done() const { return in_.empty(); }

 private:
  std::string_view in_;
};

struct Fds {
  std::int32_t sync, report, exec, in, out, err, notify, handover, cgroup[4];
};

}  // namespace

std::string encode_child_args(const ChildArgs& a) {
  Writer w;
  w.pod(kMagic);
  w.str(a.plan->root);
  w.pod(static_cast<std::uint32_t>(a.plan->ops.size()));
  for (const MountOp& op : a.plan->ops) {
    w.pod(static_cast<std::uint8_t>(op.kind));
    w.str(op.source);
    w.str(op.target);
    w.str(op.data);
    w.pod(static_cast<std::uint8_t>(op.writable | op.optional << 1 | op.is_dir << 2 | op.executable << 3));
  }
  w.str(a.workdir);
  w.strings(a.argv);
  w.strings(a.envp);
  const std::uint32_t filter_len = a.seccomp ? a.seccomp->len : 0;
  w.pod(filter_len);
  for (std::uint32_t i = 0; i < filter_len; ++i) w.pod(a.seccomp->filter[i]);
  w.pod(static_cast<std::uint8_t>(a.seccomp_listener));
  w.pod(static_cast<std::uint32_t>(a.rlimit_count));
  for (int i = 0; i < a.rlimit_count; ++i) w.pod(a.rlimits[i]);
  w.pod(static_cast<std::uint32_t>(a.uid));
  w.pod(static_cast<std::uint32_t>(a.gid));
  w.pod(static_cast<std::uint8_t>(a.in_user_namespace));
  Fds fds{a.sync_fd,   a.report_fd, a.exec_fd,     a.stdin_fd,
          a.stdout_fd, a.stderr_fd, a.notify_fd,   a.handover_fd,
          {a.cgroup_fds[0], a.cgroup_fds[1], a.cgroup_fds[2], a.cgroup_fds[3]}};
  w.pod(fds);
  w.pod(static_cast<std::uint8_t>(a.export_path != nullptr));
  w.str(a.export_path ? a.export_path : "");
  w.pod(a.egress_port);
  return w.take();
}

bool decode_child_args(std::string_view bytes, DecodedChildArgs& d) {
  Reader r(bytes);
  std::uint32_t magic = 0, ops = 0;
  if (!r.pod(magic) || magic != kMagic || !r.str(d.plan.root) || !r.count(ops, 14)) return false;
  d.plan.ops.resize(ops);
  for (MountOp& op : d.plan.ops) {
    std::uint8_t kind = 0, flags = 0;
    if (!r.pod(kind) || kind > static_cast<std::uint8_t>(OpKind::overlay) || !r.str(op.source) ||
        !r.str(op.target) || !r.str(op.data) || !r.pod(flags))
      return false;
    op.kind = static_cast<OpKind>(kind);
    op.writable = flags & 1;
    op.optional = flags & 2;
    op.is_dir = flags & 4;
    op.executable = flags & 8;
  }
  std::uint32_t filter_len = 0, rlimit_count = 0, uid = 0, gid = 0;
  std::uint8_t listener = 0, userns = 0, has_export = 0;
  if (!r.str(d.workdir) || !r.strings(d.argv_strings) || !r.strings(d.envp_strings)) return false;
  if (!r.count(filter_len, sizeof(sock_filter)) || filter_len > 0xffff) return false;
  d.filter.resize(filter_len);
  for (auto& insn : d.filter) {
    if (!r.pod(insn)) return false;
  }
  if (!r.pod(listener) || !r.count(rlimit_count, sizeof(RlimitSetting))) return false;
  d.rlimits.resize(rlimit_count);
  for (auto& rl : d.rlimits) {
    if (!r.pod(rl)) return false;
  }
  Fds fds{};
  if (!r.pod(uid) || !r.pod(gid) || !r.pod(userns) || !r.pod(fds) || !r.pod(has_export) ||
      !r.str(d.export_path) || !r.pod(d.args.egress_port) || !r.done())
    return false;

  d.argv = sys::c_string_pointers(d.argv_strings);
  d.envp = sys::c_string_pointers(d.envp_strings);
  d.program = {static_cast<unsigned short>(filter_len), d.filter.data()};
  ChildArgs& a = d.args;
  a.plan = &d.plan;
  a.workdir = d.workdir.c_str();
  a.argv = d.argv.data();
  a.envp = d.envp.data();
  a.seccomp = filter_len ? &d.program : nullptr;
  a.seccomp_listener = listener != 0;
  a.rlimits = d.rlimits.data();
  a.rlimit_count = static_cast<int>(rlimit_count);
  a.uid = uid;
  a.gid = gid;
  a.in_user_namespace = userns != 0;
  a.sync_fd = fds.sync;
  a.report_fd = fds.report;
  a.exec_fd = fds.exec;
  a.stdin_fd = fds.in;
  a.stdout_fd = fds.out;
  a.stderr_fd = fds.err;
  a.notify_fd = fds.notify;
  a.handover_fd = fds.handover;
  for (int i = 0; i < 4; ++i) a.cgroup_fds[i] = fds.cgroup[i];
  a.export_path = has_export ? d.export_path.c_str() : nullptr;
  return true;
}

std::vector<int> child_fds(const ChildArgs& a) {
  return {a.sync_fd,   a.report_fd, a.exec_fd,   a.stdin_fd,      a.stdout_fd,     a.stderr_fd,
          a.notify_fd, a.handover_fd, a.cgroup_fds[0], a.cgroup_fds[1], a.cgroup_fds[2], a.cgroup_fds[3]};
}

}  // namespace ignite::sandbox::native
