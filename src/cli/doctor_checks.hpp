// Host diagnosis for `ignite doctor`: which isolation mechanisms this host offers, and a
// one-line remedy for each that is missing. Every host path is a parameter (unit tests use a
// fake /proc and /sys tree); nothing here changes the host.
#pragma once
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "runtime/catalog.hpp"

namespace ignite::cli {

struct HostRoots {
  std::filesystem::path proc = "/proc";
  std::filesystem::path dev = "/dev";
  std::filesystem::path docker_socket = "/var/run/docker.sock";
  runtime::CatalogRoots runtimes;
  bool root = false;  // whether Ignite runs with euid 0
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
