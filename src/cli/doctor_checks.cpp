#include "cli/doctor_checks.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstdlib>
#include <cstdio>
#include <cstring>

#include "sandbox/native/cgroup_layout.hpp"
#include "sandbox/native/native_backend.hpp"
#include "sys/fd.hpp"
#include "sys/files.hpp"

namespace ignite::cli {
namespace {

namespace fs = std::filesystem;
using sandbox::native::CgroupVersion;

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::string read_trimmed(const fs::path& p) {
  auto text = sys::read_file(p);
  return text ? trimmed(*text) : "";
}

bool at_least(std::pair<int, int> have, int major, int minor) {
  return have.first > major || (have.first == major && have.second >= minor);
}

class Doctor {
 public:
  explicit Doctor(const HostRoots& roots) : r_(roots) {}

  Diagnosis run() {
    kernel();
    user_namespaces();
    capabilities();
    cgroups();
    seccomp();
    filesystems();
    devices_and_daemons();
    runtimes();
    summary();
    return std::move(d_);
  }

 private:
  void add(std::string check, FindingStatus s, std::string detail, std::string remedy = {}) {
    d_.findings.push_back({std::move(check), s, std::move(detail), std::move(remedy)});
  }

  void kernel() {
    d_.kernel = read_trimmed(r_.proc / "sys/kernel/osrelease");
    version_ = kernel_version(d_.kernel);
    // clone3 + CLONE_PIDFD (5.3), close_range with CLOSE_RANGE_CLOEXEC (5.11).
    d_.features["pidfd"] = at_least(version_, 5, 3);
    const bool enough = at_least(version_, 5, 11);
    add("kernel", enough ? FindingStatus::ok : FindingStatus::fail,
        "Linux " + (d_.kernel.empty() ? std::string("(unknown)") : d_.kernel) +
            (d_.features["pidfd"] ? "; pidfd and clone3 available" : "; no pidfd"),
        enough ? "" : "upgrade to Linux 5.11 or newer (clone3, pidfd, close_range)");
  }

  void user_namespaces() {
    const std::string max = read_trimmed(r_.proc / "sys/user/max_user_namespaces");
    const std::string debian = read_trimmed(r_.proc / "sys/kernel/unprivileged_userns_clone");
    const std::string apparmor =
        read_trimmed(r_.proc / "sys/kernel/apparmor_restrict_unprivileged_userns");
    std::string blocked, remedy;
    if (max == "0") {
      blocked = "user.max_user_namespaces=0";
      remedy = "sysctl -w user.max_user_namespaces=15000";
    } else if (debian == "0") {
      blocked = "kernel.unprivileged_userns_clone=0";
      remedy = "sysctl -w kernel.unprivileged_userns_clone=1";
    } else if (apparmor == "1") {
      blocked = "kernel.apparmor_restrict_unprivileged_userns=1";
      remedy = "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or an AppArmor "
               "profile allowing userns for ignite";
    }
    d_.features["userNamespaces"] = max.empty() ? false : max != "0";
    d_.features["unprivilegedUserNamespaces"] = d_.features["userNamespaces"] && blocked.empty();
    if (blocked.empty() && d_.features["userNamespaces"]) {
      add("user namespaces", FindingStatus::ok,
          "available to unprivileged users (max " + max + "): rootless mode works");
    } else {
      // Root does not need them; a rootless Ignite cannot build a sandbox without them.
      add("user namespaces", r_.root ? FindingStatus::info : FindingStatus::fail,
          blocked.empty() ? "not available" : "restricted by " + blocked,
          remedy.empty() ? "use a kernel with CONFIG_USER_NS" : remedy);
    }
  }

  // As root, the capabilities sandbox creation takes (a container or a systemd unit may have
  // dropped them): without CAP_KILL a deadline signals nothing (the sandbox runs as another
  // uid), without CAP_DAC_OVERRIDE a 0600 file in /out is not read back.
  void capabilities() {
    if (!r_.root) return;
    struct Needed {
      int bit;
      const char* name;
      const char* why;
    };
    static constexpr Needed kNeeded[] = {
        {21, "CAP_SYS_ADMIN", "namespaces, mounts, pivot_root"},
        {7, "CAP_SETUID", "a uid per sandbox"},
        {6, "CAP_SETGID", "a gid per sandbox"},
        {8, "CAP_SETPCAP", "each sandbox drops its capabilities"},
        {5, "CAP_KILL", "deadlines: signals to another uid"},
        {1, "CAP_DAC_OVERRIDE", "reading /out and removing what a sandbox left"},
    };
    const std::string status = read_trimmed(r_.proc / "self/status");
    const auto at = status.find("CapEff:");
    if (at == std::string::npos) return;
    const std::uint64_t effective = std::strtoull(status.c_str() + at + 7, nullptr, 16);
    std::string missing;
    for (const Needed& n : kNeeded)
      if ((effective & (1ull << n.bit)) == 0) missing += (missing.empty() ? "" : ", ") + std::string(n.name) + " (" + n.why + ")";
    if (missing.empty()) return;
    capabilities_missing_ = true;
    add("capabilities", FindingStatus::fail, "running as root without " + missing,
        "grant them (docker: deploy/docker/least-privilege.flags; systemd: CapabilityBoundingSet in "
        "deploy/systemd/ignite.service)");
  }

  void cgroups() {
    auto layout = sandbox::native::detect_cgroups(r_.proc);
    d_.features["cgroupV2"] = layout.version == CgroupVersion::v2;
    d_.features["cgroupV1"] = layout.version == CgroupVersion::v1;
    d_.features["memoryPeak"] = false;
    d_.features["cgroupKill"] = false;
    d_.features["cloneIntoCgroup"] = false;
    if (layout.version == CgroupVersion::none) {
      add("cgroups", FindingStatus::fail, layout.describe(),
          "mount cgroup2 (or v1 memory+pids) and delegate a subtree to Ignite "
          "(systemd: Delegate=yes); or accept rlimit-only limits with --allow-degraded");
      return;
    }
    bool read_only = false;  // EROFS: mounted read-only (a container's default)
    if (layout.version == CgroupVersion::v2) {
      const fs::path own = layout.v2_base;
      const auto controllers = read_trimmed(own / "cgroup.controllers");
      for (const char* c : {"memory", "pids", "cpu"}) {
        if ((" " + controllers + " ").find(std::string(" ") + c + " ") != std::string::npos)
          d_.usable_controllers.emplace_back(c);
      }
      d_.features["memoryPeak"] = fs::exists(own / "memory.peak") || at_least(version_, 5, 19);
      d_.features["cgroupKill"] = fs::exists(own / "cgroup.kill") || at_least(version_, 5, 14);
      d_.features["cloneIntoCgroup"] = at_least(version_, 5, 7);
      writable_ = ::access(own.c_str(), W_OK) == 0;
      read_only |= !writable_ && errno == EROFS;
    } else {
      writable_ = true;
      for (const auto& [controller, dir] : layout.v1_base) {
        // The per-run parent may not exist yet: what matters is that we may create it.
        const fs::path probe = fs::exists(dir) ? dir : dir.parent_path();
        if (::access(probe.c_str(), W_OK) == 0) {
          d_.usable_controllers.push_back(controller);
        } else if (controller == "memory" || controller == "pids") {
          read_only |= errno == EROFS;
          writable_ = false;
        }
      }
      const fs::path mem = layout.v1_base.at("memory").parent_path();
      swap_limited_ = fs::exists(mem / "memory.memsw.limit_in_bytes");
    }
    std::string list;
    for (const auto& c : d_.usable_controllers) list += (list.empty() ? "" : ", ") + c;
    const std::string name = layout.version == CgroupVersion::v2 ? "cgroup v2" : "cgroup v1";
    if (!writable_ && read_only) {
      // A container's cgroup mounts are read-only unless it may remount its own (docs/deploy.md).
      add("cgroups", FindingStatus::fail, name + " is mounted read-only here (as in a container by default)",
          "in a container: IGNITE_IN_CONTAINER=1 (Ignite's image sets it) with CAP_SYS_ADMIN lets Ignite "
          "mount its own cgroups writable (deploy/docker/least-privilege.flags, docs/deploy.md); otherwise "
          "--allow-degraded gives rlimit-only limits");
    } else if (!writable_) {
      add("cgroups", r_.root ? FindingStatus::fail : FindingStatus::warn,
          name + " is mounted but not delegated to this user (usable: " +
              (list.empty() ? "none" : list) + ")",
          "run as root, or delegate a cgroup subtree to this user (systemd-run --user -p "
          "Delegate=yes); otherwise --allow-degraded gives rlimit-only limits");
    } else {
      add("cgroups", FindingStatus::ok, name + "; usable controllers: " + list);
    }
    const bool has_cpu = std::find(d_.usable_controllers.begin(), d_.usable_controllers.end(),
                                   "cpu") != d_.usable_controllers.end();
    if (writable_ && !has_cpu)
      add("cpu quota", FindingStatus::warn, "no cpu controller: cpuLimit is not enforced",
          layout.version == CgroupVersion::v2 ? "enable +cpu in the parent's cgroup.subtree_control"
                                              : "mount the v1 cpu controller");
    if (layout.version == CgroupVersion::v1) {
      add("memory.peak", FindingStatus::info,
          "v1: peak memory from memory.max_usage_in_bytes (cgroup v2 has memory.peak)");
      add("cgroup.kill", FindingStatus::info,
          "v1 has no cgroup.kill: a run's processes die with its PID namespace, and the "
          "cgroup is emptied by SIGKILLing its members");
      add("CLONE_INTO_CGROUP", FindingStatus::info,
          "v2 only; on v1 a run's init writes itself into each hierarchy's tasks file");
      const bool swap = !read_trimmed(r_.proc / "swaps").empty() &&
                        lines(read_trimmed(r_.proc / "swaps")) > 1;
      if (swap && !swap_limited_)
        add("swap", FindingStatus::warn,
            "swap is on and memory.memsw is missing: runs may swap beyond memoryMb",
            "boot with swapaccount=1, or disable swap");
    } else {
      // What each v2 promise uses (docs/security.md, "cgroup v1 and v2").
      const bool peak_reset = at_least(version_, 6, 12);
      add("memory.peak", d_.features["memoryPeak"] ? FindingStatus::ok : FindingStatus::warn,
          d_.features["memoryPeak"]
              ? std::string("peak memory of a run from its memory.peak; OOM kills from memory.events") +
                    (peak_reset ? "; a warm slot's peak is reset at hand-off (per-fd, Linux 6.12+)"
                                : "; a warm slot's peak includes its runtime's start-up (per-fd "
                                  "reset needs Linux 6.12)")
              : "missing: peak memory is reported as 0",
          d_.features["memoryPeak"] ? "" : "Linux 5.19+");
      add("cgroup.kill", d_.features["cgroupKill"] ? FindingStatus::ok : FindingStatus::info,
          d_.features["cgroupKill"] ? "a run's whole process tree is killed in one write"
                                    : "missing (Linux 5.14+); members are killed one by one");
      add("CLONE_INTO_CGROUP", FindingStatus::info,
          d_.features["cloneIntoCgroup"] ? "a run's init is born in its cgroup (no move, no cgroup lock)"
                                         : "missing (Linux 5.7+); init is moved in after clone");
    }
  }

  static long lines(const std::string& s) { return std::count(s.begin(), s.end(), '\n') + 1; }

  void seccomp() {
    const std::string actions = read_trimmed(r_.proc / "sys/kernel/seccomp/actions_avail");
    d_.features["seccomp"] = !actions.empty();
    d_.features["seccompUserNotif"] = actions.find("user_notif") != std::string::npos;
    if (actions.empty()) {
      add("seccomp", FindingStatus::fail, "seccomp filters not available",
          "use a kernel built with CONFIG_SECCOMP_FILTER");
    } else {
      add("seccomp", FindingStatus::ok,
          std::string(d_.features["seccompUserNotif"]
                          ? "filters with user notification: blocked calls are named in results"
                          : "filters without user notification: killed calls are not named") +
              " (actions: " + actions + ")");
    }
  }

  void filesystems() {
    // The backend's own test: what it decides by is what we report.
    d_.features["overlayfs"] = sandbox::native::kernel_has_overlayfs(r_.proc);
    add("overlayfs", d_.features["overlayfs"] ? FindingStatus::ok : FindingStatus::warn,
        d_.features["overlayfs"] ? "available: read-only mounts are per-run overlays (no inode shared between runs)"
                                 : "not loaded: concurrent runs share the inodes of read-only files (flock, inotify)",
        d_.features["overlayfs"] ? "" : "modprobe overlay");
  }

  // Which VMM and accelerator --isolation microvm would use, and why. /dev/kvm alone proves
  // nothing: a PVM or nested host serves it and boots no ordinary guest, so the backend (and
  // this report) count hardware KVM only with kvm_intel or kvm_amd loaded.
  void microvm() {
    const fs::path kvm = r_.dev / "kvm";
    d_.features["kvm"] = fs::exists(kvm);
    if (!r_.microvm) return;
    const MicroVmHost& vm = *r_.microvm;
    d_.features["microvm"] = vm.usable;
    d_.features["hardwareKvm"] = vm.usable && vm.hardware_kvm;
    if (!vm.usable) {
      add("microvm", FindingStatus::info, "unavailable: " + vm.why_not, "");
      return;
    }
    const std::string vmm = vm.vmm + " " + vm.binary.string() + " (" + vm.vmm_reason + "), guest kernel " +
                            vm.kernel.string() +
                            (vm.stock_kernel ? " (Debian's stock kernel, the no-build fallback: VMs boot slower and "
                                               "take their share on disks; scripts/guest-kernel builds ours)"
                                             : "") +
                            (r_.root ? "; each VMM jailed: a uid of its own, no capabilities, its own cgroup and "
                                       "root, no network"
                                     : "; the VMMs run as this user (not root: no uid of their own)") +
                            (vm.vmm == "Firecracker" ? "; `network: true` is refused (Firecracker needs a tap device)"
                             : vm.passt.empty()      ? "; `network: true` is refused: passt is not installed"
                                                     : "; `network: true` through " + vm.passt.string() +
                                                      " (the host at its address, never its loopback)");
    if (vm.hardware_kvm) {
      add("microvm", FindingStatus::ok, "hardware KVM: " + vmm, "");
      return;
    }
    const std::string kvm_state =
        !d_.features["kvm"] ? "/dev/kvm is absent"
                            : "/dev/kvm is present, but neither kvm_intel nor kvm_amd is loaded (a PVM or nested "
                              "host: no ordinary guest boots under it)";
    add("microvm", FindingStatus::warn,
        "TCG emulation (" + kvm_state + "): runs work, tens of times slower; for testing. " + vmm,
        "load kvm_intel or kvm_amd (hardware virtualization) for microVMs at native speed");
  }

  void devices_and_daemons() {
    microvm();

    std::string state;
    d_.features["docker"] = false;
    struct stat st {};
    if (::stat(r_.docker_socket.c_str(), &st) != 0) {
      state = "absent";
    } else if (!S_ISSOCK(st.st_mode)) {
      state = "present but not a socket";
    } else {
      sys::Fd s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
      sockaddr_un a{};
      a.sun_family = AF_UNIX;
      std::snprintf(a.sun_path, sizeof a.sun_path, "%s", r_.docker_socket.c_str());
      if (::connect(s.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
        state = "present and accepting connections";
        d_.features["docker"] = true;
      } else {
        state = std::string("present but not connectable (") + std::strerror(errno) + ")";
      }
    }
    add("docker socket", d_.features["docker"] ? FindingStatus::ok : FindingStatus::info,
        r_.docker_socket.string() + ": " + state,
        d_.features["docker"] ? "" : "start dockerd (and grant access to its socket) for --isolation docker");
  }

  void runtimes() {
    auto installed = runtime::Catalog(r_.runtimes).list();
    std::string names;
    for (const auto& rt : installed) names += (names.empty() ? "" : ", ") + rt.label();
    add("runtimes", installed.empty() ? FindingStatus::warn : FindingStatus::ok,
        "store " + r_.runtimes.store.string() + (names.empty() ? "; none installed" : "; " + names),
        installed.empty() ? "run scripts/install-deps (or `ignite runtimes install`)" : "");
  }

  void summary() {
    const bool can_build = r_.root || d_.features["unprivilegedUserNamespaces"];
    const bool cgroup = (d_.features["cgroupV1"] || d_.features["cgroupV2"]) && writable_;
    // A rootless run is degraded even with a cgroup: every run is the invoking user's one uid
    // (results list it under "degradations"; only a missing cgroup makes `ignite run` refuse).
    d_.isolation_level = !can_build ? "unavailable" : (cgroup && r_.root && !capabilities_missing_ ? "full" : "degraded");
    std::string detail = r_.root ? "running as root" : "rootless (user namespace)";
    if (d_.isolation_level == "full") {
      add("isolation", FindingStatus::ok, detail + ": full isolation (namespaces, cgroup limits, seccomp)");
    } else if (d_.isolation_level == "degraded" && capabilities_missing_) {
      add("isolation", FindingStatus::fail, detail + " without the capabilities sandboxes need: limits may not hold",
          "see the capabilities finding");
    } else if (d_.isolation_level == "degraded" && cgroup) {
      add("isolation", FindingStatus::warn,
          detail + " with a delegated cgroup: every limit holds, but all runs share your uid, so "
                   "results say \"isolationLevel\":\"degraded\" (identity)",
          "run as root for a uid per run");
    } else if (d_.isolation_level == "degraded") {
      add("isolation", FindingStatus::warn,
          detail + ": no usable cgroup, so memory/pids/CPU limits fall back to rlimits; "
                   "`ignite run` refuses unless --allow-degraded, and results say "
                   "\"isolationLevel\":\"degraded\"",
          "see the cgroups finding");
    } else {
      add("isolation", FindingStatus::fail, detail + ": cannot build a sandbox",
          "run as root, or enable unprivileged user namespaces");
    }
  }

  const HostRoots& r_;
  Diagnosis d_;
  std::pair<int, int> version_{0, 0};
  bool writable_ = false;
  bool capabilities_missing_ = false;
  bool swap_limited_ = false;
};

}  // namespace

bool Diagnosis::ok() const {
  for (const auto& f : findings) {
    if (f.status == FindingStatus::fail) return false;
  }
  return true;
}

std::pair<int, int> kernel_version(const std::string& release) {
  int major = 0, minor = 0;
  if (std::sscanf(release.c_str(), "%d.%d", &major, &minor) != 2) return {0, 0};
  return {major, minor};
}

std::string_view to_string(FindingStatus status) {
  switch (status) {
    case FindingStatus::ok: return "ok";
    case FindingStatus::info: return "info";
    case FindingStatus::warn: return "warn";
    case FindingStatus::fail: return "fail";
  }
  return "info";
}

Diagnosis diagnose(const HostRoots& roots) { return Doctor(roots).run(); }

}  // namespace ignite::cli
