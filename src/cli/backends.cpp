#include "cli/backends.hpp"

#include <map>

#include "config/service_config.hpp"
#include "docker/runtime_image.hpp"
#include "runtime/catalog.hpp"
#include "runtime/warm.hpp"
#include "sandbox/microvm/microvm_backend.hpp"

namespace ignite::cli {
namespace {

namespace fs = std::filesystem;

// Runtime images by runtime label, built (or found) once per process.
class ImageResolver {
 public:
  ImageResolver(ignite::docker::EngineOptions engine, fs::path init)
      : client_(std::move(engine)), init_(std::move(init)), catalog_(runtime::default_roots()) {}

  Result<std::string> operator()(const SandboxSpec& spec) {
    if (!spec.image.empty()) {
      // A service's own image: it must be here already (nothing is pulled).
      if (auto found = client_.inspect_image(spec.image); !found)
        return fail(ErrorCode::failed_precondition, "image '" + spec.image + "' is not a local image (" +
                                                        found.error().message + ")");
      return spec.image;
    }
    std::lock_guard lock(mu_);
    if (auto it = tags_.find(spec.runtime_image); it != tags_.end()) return it->second;
    IGNITE_TRY_ASSIGN(runtime::Installed rt, ignite::docker::image_runtime(spec.runtime_image, catalog_));
    IGNITE_TRY_ASSIGN(ignite::docker::RuntimeImage image, ignite::docker::ensure_runtime_image(client_, rt, init_));
    tags_[spec.runtime_image] = image.tag;
    return image.tag;
  }

 private:
  ignite::docker::EngineClient client_;
  fs::path init_;
  runtime::Catalog catalog_;
  std::mutex mu_;  // one build at a time; the others wait for it
  std::map<std::string, std::string> tags_;
};

}  // namespace

std::function<bool(std::string_view)> left_by_dead_instance(fs::path runtime_root) {
  return [root = std::move(runtime_root)](std::string_view name) {
    const auto id = sys::Instance::id_of(name);
    return !id.empty() && !sys::Instance::is_live(root, id);
  };
}

OtherBackends::OtherBackends(Result<sandbox::docker::DockerConfig> docker, const sys::Instance& instance, bool vm_templates)
    : docker_config_(std::move(docker)), scratch_root_(instance.dir()), vm_templates_(vm_templates) {
  vm_jail_.id_lock_dir = instance.runtime_root() / "ids";
  vm_jail_.run_prefix = instance.tag("");
  vm_jail_.stale = left_by_dead_instance(instance.runtime_root());
}

std::optional<std::uint64_t> OtherBackends::docker_image_bytes(const SandboxSpec& spec) {
  if (!docker_config_) return std::nullopt;
  auto tag = docker_config_->image_for(spec);
  if (!tag) return std::nullopt;
  ignite::docker::EngineClient client(docker_config_->engine);
  auto size = ignite::docker::image_size(client, *tag);
  return size ? std::optional<std::uint64_t>(*size) : std::nullopt;
}

void add_isolation_option(CLI::App* cmd, std::string& isolation, const std::string& help) {
  cmd->add_option("--isolation", isolation, help)->check(CLI::IsMember({"native", "docker", "microvm"}));
}

Result<sandbox::Backend*> OtherBackends::get(std::string_view isolation) {
  if (isolation == "docker") {
    std::lock_guard lock(mu_);
    if (!docker_config_) return fail(docker_config_.error());
    if (!docker_) {
      IGNITE_TRY_ASSIGN(docker_, sandbox::docker::make_docker_backend(*docker_config_));
    }
    return docker_.get();
  }
  if (isolation == "microvm") {
    std::lock_guard lock(mu_);
    if (!microvm_) {
      IGNITE_TRY_ASSIGN(sandbox::microvm::MicroVmConfig config, sandbox::microvm::detect_microvm_config(scratch_root_));
      config.templates = vm_templates_;
      config.jail = vm_jail_;
      IGNITE_TRY_ASSIGN(microvm_, sandbox::microvm::make_microvm_backend(std::move(config)));
    }
    return microvm_.get();
  }
  return fail(ErrorCode::unsupported, "isolation '" + std::string(isolation) +
                                          "' is not available in this build (available: native, docker, microvm)");
}

Result<sandbox::docker::DockerConfig> docker_config(const sys::Instance& instance) {
  sandbox::docker::DockerConfig c;
  IGNITE_TRY_ASSIGN(c.engine.socket_path, ignite::docker::socket_from_env());
  c.scratch_root = instance.dir();
  c.run_prefix = instance.tag("");
  c.id_lock_dir = instance.runtime_root() / "ids";
  c.stale_run = left_by_dead_instance(instance.runtime_root());
  auto init = runtime::docker_init_binary();
  if (!init)
    return fail(ErrorCode::failed_precondition,
                "ignite-docker-init is not installed next to ignite (it is built with it; $IGNITE_DOCKER_INIT names another)");
  c.init_binary = *init;
  c.image_for = [resolver = std::make_shared<ImageResolver>(c.engine, *init)](const SandboxSpec& spec) {
    return (*resolver)(spec);
  };
  return c;
}

}  // namespace ignite::cli
