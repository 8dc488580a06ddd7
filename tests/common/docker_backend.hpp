// The docker backend for tests: on the test dockerd (dockerd.hpp), with runtime images built
// on first use (and cached by their content-hashed tags across test processes) and the
// ignite-docker-init the build made (IGNITE_DOCKER_INIT). Fails with `unavailable` and the
// daemon's reason when there is none, so callers skip with it.
#pragma once
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>

#include "config/service_config.hpp"
#include "docker/runtime_image.hpp"
#include "dockerd.hpp"
#include "runtime/catalog.hpp"
#include "sandbox/docker/docker_backend.hpp"

namespace ignite::testing {

inline Result<std::string> test_image_for(const SandboxSpec& spec) {
  static std::mutex mu;
  static std::map<std::string, std::string> tags;
  if (!spec.image.empty()) return spec.image;
  std::lock_guard lock(mu);
  if (auto it = tags.find(spec.runtime_image); it != tags.end()) return it->second;
  IGNITE_TRY_ASSIGN(runtime::Installed rt,
                    docker::image_runtime(spec.runtime_image, runtime::Catalog(runtime::default_roots())));
  IGNITE_TRY_ASSIGN(auto client, docker::EngineClient::from_env());
  IGNITE_TRY_ASSIGN(auto image, docker::ensure_runtime_image(client, rt, IGNITE_DOCKER_INIT));
  tags[spec.runtime_image] = image.tag;
  return image.tag;
}

// `first_id`/`id_count`: the uid range (tests that count sandbox processes use their own).
inline Result<std::unique_ptr<sandbox::Backend>> make_test_docker_backend(const std::filesystem::path& scratch,
                                                                          unsigned first_id = 60000,
                                                                          unsigned id_count = 1000) {
  const auto& daemon = docker_daemon();
  if (!daemon.ready) return fail(ErrorCode::unavailable, "no Docker daemon: " + daemon.why);
  sandbox::docker::DockerConfig c;
  c.engine.socket_path = daemon.socket;
  c.scratch_root = scratch;
  c.first_id = first_id;
  c.id_count = id_count;
  c.init_binary = IGNITE_DOCKER_INIT;
  c.image_for = test_image_for;
  return sandbox::docker::make_docker_backend(std::move(c));
}

}  // namespace ignite::testing
