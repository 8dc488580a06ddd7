#include "sandbox/native/child_wire.hpp"

#include <cstdint>
#include <string_view>

#include "sandbox/native/mount_plan.hpp"

namespace ignite::sandbox::native {
namespace {

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

}  // namespace

std::string encode_child_args(const ChildArgs& a) {
  Writer w;
  w.pod(kChildWireMagic);
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
  ChildWireFds fds{a.sync_fd,   a.report_fd, a.exec_fd,   a.stdin_fd,
                   a.stdout_fd, a.stderr_fd, a.notify_fd, a.handover_fd,
                   {a.cgroup_fds[0], a.cgroup_fds[1], a.cgroup_fds[2], a.cgroup_fds[3]}};
  w.pod(fds);
  w.pod(static_cast<std::uint8_t>(a.export_path != nullptr));
  w.str(a.export_path ? a.export_path : "");
  w.pod(a.egress_port);
  return w.take();
}

std::vector<int> child_fds(const ChildArgs& a) {
  return {a.sync_fd,   a.report_fd, a.exec_fd,   a.stdin_fd,      a.stdout_fd,     a.stderr_fd,
          a.notify_fd, a.handover_fd, a.cgroup_fds[0], a.cgroup_fds[1], a.cgroup_fds[2], a.cgroup_fds[3]};
}

}  // namespace ignite::sandbox::native
