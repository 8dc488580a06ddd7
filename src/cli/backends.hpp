// The isolation backends of one Ignite process besides the native one (which every engine has
// and which runs every build and install step): docker and microvm, each made on first use (so
// that a daemon started or a guest kernel built later is still found), and then kept.
#pragma once
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>

#include <CLI/CLI.hpp>

#include "core/result.hpp"
#include "sandbox/backend.hpp"
#include "sandbox/docker/docker_backend.hpp"
#include "sandbox/microvm/vmm_jail.hpp"
#include "sys/instance.hpp"

namespace ignite::cli {

class OtherBackends {
 public:
  // A configuration that failed (no ignite-docker-init, a DOCKER_HOST we cannot speak) is
  // the error of every request for docker.
  // microVMs keep their per-VM dirs and templates under `scratch_root` (the instance's private
  // dir); `vm_templates`: restore them from templates rather than boot them.
  // Their VMMs are jailed (vmm_jail.hpp) with uids from the instance's pool, in cgroups tagged
  // with the instance's tag.
  OtherBackends(Result<sandbox::docker::DockerConfig> docker, const sys::Instance& instance, bool vm_templates);

  // The backend named `isolation`; `unavailable`/`unsupported` with the reason (and the remedy)
  // when it cannot be had here. A failed attempt is not remembered: the next call tries again.
  Result<sandbox::Backend*> get(std::string_view isolation);

  // The size of the local image a docker run of `spec` uses (built on first use, as the run
  // would); nullopt when there is no daemon or no image.
  std::optional<std::uint64_t> docker_image_bytes(const SandboxSpec& spec);

 private:
  std::mutex mu_;
  Result<sandbox::docker::DockerConfig> docker_config_;
  std::unique_ptr<sandbox::Backend> docker_;
  std::filesystem::path scratch_root_;
  bool vm_templates_ = false;
  sandbox::microvm::VmmJailer::Config vm_jail_;
  std::unique_ptr<sandbox::Backend> microvm_;
};

// `--isolation native|docker|microvm` on `cmd`, into `isolation` (left empty when not given:
// the service's own choice, else native).
void add_isolation_option(CLI::App* cmd, std::string& isolation, const std::string& help);

// For names an instance tagged ("<id>.…"): true when that instance is gone.
std::function<bool(std::string_view)> left_by_dead_instance(std::filesystem::path runtime_root);

// The docker backend's configuration for this instance: DOCKER_HOST's socket, the instance's
// dirs, uid locks and stale-run test, ignite-docker-init, and runtime images built on first use
// (`ignite images build` builds them ahead).
Result<sandbox::docker::DockerConfig> docker_config(const sys::Instance& instance);

}  // namespace ignite::cli
