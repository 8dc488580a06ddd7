// `ignite doctor`: what this host can enforce, and how to fix what it cannot.
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/context.hpp"
#include "runtime/catalog.hpp"
#include "sandbox/native/cgroup_layout.hpp"
#include "sys/files.hpp"

namespace ignite::cli {
namespace {

namespace fs = std::filesystem;

struct Finding {
  std::string check;
  std::string status;  // ok | warn | fail | info
  std::string detail;
  std::string remedy;
};

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

std::vector<Finding> diagnose() {
  std::vector<Finding> f;
  utsname u{};
  ::uname(&u);
  f.push_back({"kernel", "info", std::string(u.sysname) + " " + u.release + " " + u.machine, ""});

  auto layout = sandbox::native::detect_cgroups();
  using sandbox::native::CgroupVersion;
  if (layout.version == CgroupVersion::none) {
    f.push_back({"cgroups", "fail", layout.describe(),
                 "mount cgroup2 with memory and pids delegated to Ignite (systemd: Delegate=yes), "
                 "or run with --allow-degraded to accept rlimit-only limits"});
  } else {
    std::string detail = "using " + layout.describe();
    if (layout.version == CgroupVersion::v1) detail += "; cgroup.kill and memory.peak are v2-only";
    f.push_back({"cgroups", "ok", detail, ""});
  }

  const bool root = ::geteuid() == 0;
  auto max_userns = sys::read_file("/proc/sys/user/max_user_namespaces");
  auto unpriv = sys::read_file("/proc/sys/kernel/unprivileged_userns_clone");
  bool userns = max_userns && trimmed(*max_userns) != "0" && (!unpriv || trimmed(*unpriv) != "0");
  f.push_back({"user namespaces", userns ? "ok" : (root ? "info" : "fail"),
               userns ? "available (needed for rootless mode)" : "disabled by sysctl",
               userns ? "" : "sysctl -w user.max_user_namespaces=15000 (and kernel.unprivileged_userns_clone=1)"});
  f.push_back({"privileges", root ? "ok" : "warn", root ? "running as root" : "running rootless",
               root ? "" : "limits need a delegated cgroup; see docs"});

  auto seccomp = sys::read_file("/proc/sys/kernel/seccomp/actions_avail");
  f.push_back({"seccomp", seccomp ? "ok" : "fail",
               seccomp ? "filter actions: " + trimmed(*seccomp) : "not available",
               seccomp ? "" : "use a kernel built with CONFIG_SECCOMP_FILTER"});

  auto fs_list = sys::read_file("/proc/filesystems");
  bool overlay = fs_list && fs_list->find("overlay") != std::string::npos;
  f.push_back({"overlayfs", overlay ? "ok" : "info", overlay ? "available" : "not loaded",
               overlay ? "" : "modprobe overlay (used by later features)"});

  f.push_back({"/dev/kvm", fs::exists("/dev/kvm") ? "ok" : "info",
               fs::exists("/dev/kvm") ? "present: microvm isolation possible" : "absent: microvm isolation unavailable",
               fs::exists("/dev/kvm") ? "" : "enable virtualization (nested KVM) to use --isolation microvm"});

  const bool docker = fs::exists("/var/run/docker.sock");
  f.push_back({"docker socket", docker ? "ok" : "info",
               docker ? "/var/run/docker.sock present" : "/var/run/docker.sock absent",
               docker ? "" : "start dockerd to use --isolation docker"});

  auto roots = runtime::default_roots();
  auto installed = runtime::Catalog(roots).list();
  std::string names;
  for (const auto& rt : installed) names += (names.empty() ? "" : ", ") + rt.label();
  f.push_back({"runtimes", installed.empty() ? "warn" : "ok",
               "store " + roots.store.string() + (names.empty() ? "; none installed" : "; " + names),
               installed.empty() ? "run scripts/install-deps" : ""});
  return f;
}

int doctor(bool json) {
  auto findings = diagnose();
  bool failed = false;
  for (const auto& x : findings) failed |= x.status == "fail";
  if (json) {
    nlohmann::json doc{{"ok", !failed}, {"findings", nlohmann::json::array()}};
    for (const auto& x : findings)
      doc["findings"].push_back({{"check", x.check}, {"status", x.status}, {"detail", x.detail},
                                 {"remedy", x.remedy}});
    std::printf("%s\n", doc.dump(2).c_str());
  } else {
    for (const auto& x : findings) {
      const char* mark = x.status == "ok" ? "✓" : x.status == "fail" ? "✗" : x.status == "warn" ? "⚠" : "•";
      std::printf("%s %-16s %s\n", mark, x.check.c_str(), x.detail.c_str());
      if (!x.remedy.empty()) std::printf("  fix: %s\n", x.remedy.c_str());
    }
  }
  return failed ? 1 : 0;
}

}  // namespace

void register_doctor(CLI::App& app, Context& ctx) {
  auto json = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("doctor", "What this host can enforce, and how to fix the rest");
  cmd->add_flag("--json", *json, "Print the findings as JSON");
  cmd->callback([json, &ctx] { ctx.exit_code = doctor(*json); });
}

}  // namespace ignite::cli
