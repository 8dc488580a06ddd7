#include "sandbox/native/child_decode.hpp"

#include <stdlib.h>
#include <string.h>

namespace ignite::sandbox::native {
namespace {

class Reader {
 public:
  Reader(const char* p, size_t n) noexcept : p_(p), left_(n) {}
  template <typename T>
  bool pod(T& v) noexcept {
    if (left_ < sizeof v) return false;
    memcpy(&v, p_, sizeof v);
    skip(sizeof v);
    return true;
  }
  // A string's length, checked against the bytes left; its bytes are then at `at()`.
  bool length(uint32_t& n) noexcept { return pod(n) && n <= left_; }
  // A count of items of at least `min_bytes` each: never more than the bytes left could hold,
  // so a corrupt count cannot make us allocate gigabytes.
  bool count(uint32_t& n, size_t min_bytes) noexcept { return pod(n) && n <= left_ / min_bytes; }
  const char* at() const noexcept { return p_; }
  void skip(size_t n) noexcept {
    p_ += n;
    left_ -= n;
  }
  bool done() const noexcept { return left_ == 0; }

 private:
  const char* p_;
  size_t left_;
};

// One block, handed out front to back. Its size bounds what any encoding of `input` bytes
// decodes to (below), and every take is checked against it all the same.
class Arena {
 public:
  explicit Arena(char* block, size_t size) noexcept : next_(block), left_(size) {}
  template <typename T>
  T* take(size_t n) noexcept {
    const size_t pad = (alignof(T) - reinterpret_cast<uintptr_t>(next_) % alignof(T)) % alignof(T);
    if (pad > left_ || n > (left_ - pad) / sizeof(T)) return nullptr;
    T* out = reinterpret_cast<T*>(next_ + pad);
    next_ += pad + n * sizeof(T);
    left_ -= pad + n * sizeof(T);
    return out;
  }

 private:
  char* next_;
  size_t left_;
};

// Every item decodes to at most 5 bytes per byte it took on the wire (a mount step: 14 bytes or
// more in, under 60 out with its strings' NULs and alignment; a string of n bytes in a list:
// 4 + n in, n + 1 out and a pointer), plus the lists' terminating nulls. Untouched pages of the
// block cost nothing.
static_assert(sizeof(MountStep) <= 48 && sizeof(char*) <= 8);
size_t arena_bound(size_t input) noexcept {
  return input > (SIZE_MAX - 4096) / 5 ? 0 : input * 5 + 4096;
}

bool string(Reader& r, Arena& arena, const char*& out, size_t* size = nullptr) noexcept {
  uint32_t n = 0;
  if (!r.length(n)) return false;
  char* s = arena.take<char>(size_t{n} + 1);
  if (!s) return false;
  memcpy(s, r.at(), n);
  s[n] = '\0';
  r.skip(n);
  out = s;
  if (size) *size = n;
  return true;
}

// A null-terminated list of strings (argv, envp).
bool strings(Reader& r, Arena& arena, char* const*& out) noexcept {
  uint32_t n = 0;
  if (!r.count(n, sizeof(uint32_t))) return false;
  char** list = arena.take<char*>(size_t{n} + 1);
  if (!list) return false;
  for (uint32_t i = 0; i < n; ++i) {
    const char* s = nullptr;
    if (!string(r, arena, s)) return false;
    list[i] = const_cast<char*>(s);
  }
  list[n] = nullptr;
  out = list;
  return true;
}

template <typename T>
bool array(Reader& r, Arena& arena, uint32_t n, T*& out) noexcept {
  out = arena.take<T>(n);
  if (!out) return false;
  for (uint32_t i = 0; i < n; ++i) {
    if (!r.pod(out[i])) return false;
  }
  return true;
}

}  // namespace

DecodedChildArgs::~DecodedChildArgs() { free(arena); }

bool decode_child_args(const char* bytes, size_t size, DecodedChildArgs& d) noexcept {
  const size_t bound = arena_bound(size);
  if (bound == 0 || !(d.arena = static_cast<char*>(malloc(bound)))) return false;
  Arena arena(d.arena, bound);
  Reader r(bytes, size);
  ChildArgs& a = d.args;
  uint32_t magic = 0, steps = 0;
  if (!r.pod(magic) || magic != kChildWireMagic || !string(r, arena, a.root) || !r.count(steps, 14))
    return false;
  MountStep* step = arena.take<MountStep>(steps);
  if (!step) return false;
  for (uint32_t i = 0; i < steps; ++i) {
    uint8_t kind = 0, flags = 0;
    MountStep& s = step[i];
    if (!r.pod(kind) || kind > static_cast<uint8_t>(OpKind::overlay) ||
        !string(r, arena, s.source) || !string(r, arena, s.target) ||
        !string(r, arena, s.data, &s.data_size) || !r.pod(flags))
      return false;
    s.kind = static_cast<OpKind>(kind);
    s.writable = flags & 1;
    s.optional = flags & 2;
    s.is_dir = flags & 4;
    s.executable = flags & 8;
  }
  a.steps = step;
  a.step_count = steps;

  uint32_t filter_len = 0, rlimit_count = 0, uid = 0, gid = 0;
  uint8_t listener = 0, userns = 0, has_export = 0;
  sock_filter* filter = nullptr;
  RlimitSetting* rlimits = nullptr;
  const char* export_path = nullptr;
  if (!string(r, arena, a.workdir) || !strings(r, arena, a.argv) || !strings(r, arena, a.envp))
    return false;
  if (!r.count(filter_len, sizeof(sock_filter)) || filter_len > 0xffff ||
      !array(r, arena, filter_len, filter))
    return false;
  if (!r.pod(listener) || !r.count(rlimit_count, sizeof(RlimitSetting)) ||
      !array(r, arena, rlimit_count, rlimits))
    return false;
  ChildWireFds fds{};
  if (!r.pod(uid) || !r.pod(gid) || !r.pod(userns) || !r.pod(fds) || !r.pod(has_export) ||
      !string(r, arena, export_path) || !r.pod(a.egress_port) || !r.done())
    return false;

  d.program = {static_cast<unsigned short>(filter_len), filter};
  a.seccomp = filter_len ? &d.program : nullptr;
  a.seccomp_listener = listener != 0;
  a.rlimits = rlimits;
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
  a.export_path = has_export ? export_path : nullptr;
  return true;
}

}  // namespace ignite::sandbox::native
