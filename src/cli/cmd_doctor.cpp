// `ignite doctor [--json]`: what this host can enforce, and how to fix what it cannot
// (CONTRACT §2). The checks live in doctor_checks.cpp; this file prints them.
#include <unistd.h>

#include <cstdio>
#include <memory>

#include <nlohmann/json.hpp>

#include "cli/context.hpp"
#include "cli/doctor_checks.hpp"
#include "docker/engine_client.hpp"
#include "sandbox/microvm/microvm_backend.hpp"

namespace ignite::cli {
namespace {

nlohmann::json to_json(const Diagnosis& d) {
  nlohmann::json doc{{"ok", d.ok()},
                     {"kernel", d.kernel},
                     {"isolationLevel", d.isolation_level},
                     {"features", d.features},
                     {"cgroupControllers", d.usable_controllers},
                     {"findings", nlohmann::json::array()}};
  for (const auto& f : d.findings) {
    doc["findings"].push_back({{"check", f.check},
                               {"status", std::string(to_string(f.status))},
                               {"detail", f.detail},
                               {"remedy", f.remedy}});
  }
  return doc;
}

void print_text(const Diagnosis& d) {
  for (const auto& f : d.findings) {
    const char* mark = f.status == FindingStatus::ok     ? "✓"
                       : f.status == FindingStatus::fail ? "✗"
                       : f.status == FindingStatus::warn ? "⚠"
                                                         : "•";
    std::printf("%s %-18s %s\n", mark, f.check.c_str(), f.detail.c_str());
    if (!f.remedy.empty()) std::printf("  fix: %s\n", f.remedy.c_str());
  }
  std::printf("\nisolation level for `ignite run`: %s\n", d.isolation_level.c_str());
}

// Exit 0 when nothing failed, 1 otherwise (so scripts can gate on it).
int doctor(bool json) {
  HostRoots roots;
  roots.runtimes = runtime::default_roots();
  roots.root = ::geteuid() == 0;
  // The daemon --isolation docker would use (DOCKER_HOST), not only the default socket.
  if (auto socket = docker::socket_from_env()) roots.docker_socket = *socket;
  // The backend's own detection: what it would use is what we report.
  MicroVmHost vm;
  if (auto c = sandbox::microvm::detect_microvm_config("/run/ignite")) {
    const bool fc = c->vmm == sandbox::microvm::Vmm::firecracker;
    vm = {.usable = true, .why_not = {}, .vmm = fc ? "Firecracker" : "QEMU", .binary = fc ? c->firecracker : c->qemu,
          .kernel = c->kernel, .vmm_reason = c->vmm_reason, .hardware_kvm = c->kvm,
          .stock_kernel = !c->kernel_modules.empty(), .passt = c->passt};
  } else {
    constexpr std::string_view prefix = "microvm: ";
    vm.why_not = c.error().message;
    if (vm.why_not.starts_with(prefix)) vm.why_not.erase(0, prefix.size());
  }
  roots.microvm = vm;
  const Diagnosis d = diagnose(roots);
  if (json) {
    std::printf("%s\n", to_json(d).dump(2).c_str());
  } else {
    print_text(d);
  }
  return d.ok() ? 0 : 1;
}

}  // namespace

void register_doctor(CLI::App& app, Context& ctx) {
  auto json = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("doctor", "What this host can enforce, and how to fix the rest");
  cmd->add_flag("--json", *json, "Print the diagnosis as one JSON document");
  cmd->callback([json, &ctx] { ctx.exit_code = doctor(*json); });
}

}  // namespace ignite::cli
