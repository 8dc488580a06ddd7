// Host diagnosis for `ignite doctor`: which isolation mechanisms this host offers, and a
// one-line remedy for each that is missing. Every host path is a parameter (unit tests use a
// fake /proc and /sys tree); nothing here changes the host.
#pragma once
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "runtime/catalog.hpp"

namespace ignite::cli {

// What --isolation microvm would use on this host, as the backend detects it
// (detect_microvm_config; the caller asks, so these checks stay free of host probing).
struct MicroVmHost {
  bool usable = false;
  std::string why_not;  // when not usable: what is missing, with its remedy
  std::string vmm = "QEMU";   // the driver: QEMU or Firecracker
  std::filesystem::path binary, kernel;  // the VMM's binary, the guest kernel
  std::string vmm_reason;     // why that driver
  bool hardware_kvm = false;  // kvm_intel/kvm_amd loaded; else QEMU emulates (TCG)
  bool stock_kernel = false;  // Debian's (scripts/guest-kernel --debian), not ours
  std::filesystem::path passt;  // a `network: true` VM's network; empty: not installed
};

struct HostRoots {
  std::filesystem::path proc = "/proc";
  std::filesystem::path dev = "/dev";
  std::filesystem::path docker_socket = "/var/run/docker.sock";
  runtime::CatalogRoots runtimes;
  bool root = false;  // whether Ignite runs with euid 0
  std::optional<MicroVmHost> microvm;  // none: not reported
};

enum class FindingStatus { ok, info, warn, fail };

struct Finding {
  std::string check;  // "cgroups", "user namespaces", ...
  FindingStatus status = FindingStatus::info;
  std::string detail;
  std::string remedy;  // one line; empty when nothing needs fixing
};

struct Diagnosis {
  std::string kernel;                    // "6.18.0"
  std::map<std::string, bool> features;  // "cgroupV1", "memoryPeak", "seccompUserNotif", ...
  std::vector<std::string> usable_controllers;
  // What `ignite run` gives on this host: "full", "degraded" (needs --allow-degraded), or
  // "unavailable" (no namespaces to build a sandbox from).
  std::string isolation_level;
  std::vector<Finding> findings;
  bool ok() const;  // no finding failed
};

Diagnosis diagnose(const HostRoots& roots);

// "6.1.0-18-amd64" -> {6, 1}; {0, 0} when unparsable.
std::pair<int, int> kernel_version(const std::string& release);

std::string_view to_string(FindingStatus status);

}  // namespace ignite::cli
