// EngineClient: the Docker Engine API over the daemon's Unix socket, with libcurl (one easy
// handle per call, so one client may be used from several threads). Every call returns its
// errors as values: `unavailable` (with the remedy) when no daemon answers, the daemon's own
// `{"message": ...}` otherwise (one line, cut at 1000 bytes). No call allocates without
// bound: response bodies are capped (EngineOptions::max_body), logs by the caller's per-stream
// cap. Logs are read until both streams are full or the stream ends (bounded in time only by
// the timeout): the backend should also cap the daemon's own log (HostConfig.LogConfig).
//
// The API version is pinned (/v1.41, Docker 20.10 — Debian 12's docker.io), so a newer daemon
// answers in the shape this code was written against.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/result.hpp"
#include "docker/log_stream.hpp"
#include "docker/unix_http.hpp"

namespace ignite::docker {

using Labels = std::map<std::string, std::string>;

struct EngineOptions {
  std::string socket_path = "/var/run/docker.sock";
  std::string api_version = "v1.41";
  std::size_t max_body = std::size_t{64} << 20;      // any one response body
  std::chrono::milliseconds timeout{60'000};         // a whole ordinary call
  std::chrono::milliseconds build_timeout{600'000};  // POST /build
};

// The socket named by DOCKER_HOST (`unix:///path`), else /var/run/docker.sock. Other schemes
// (tcp://, ssh://) are `unsupported`: only a local socket is spoken here.
Result<std::string> socket_from_env();

struct WaitResult {
  long exit_code = -1;
  std::string error;  // the daemon's wait error ("" when none)
};

struct ImageSummary {
  std::string id;                 // "sha256:..."
  std::vector<std::string> tags;  // "ignite-runtime/python:3.11.2-0123456789ab"
  std::uint64_t size_bytes = 0;
  Labels labels;
};

class EngineClient {
 public:
  explicit EngineClient(EngineOptions options);
  // DOCKER_HOST or the default socket, default limits.
  static Result<EngineClient> from_env();

  const std::string& socket_path() const { return options_.socket_path; }

  Status ping();                         // GET /_ping
  Result<nlohmann::json> version();      // GET /version (ApiVersion, Version, ...)
  Result<nlohmann::json> info();         // GET /info (CgroupDriver, CgroupVersion, ...)

  // POST /containers/create. `config` is the API's container config (Image, Cmd, User,
  // HostConfig, ...); `labels` are merged into its Labels. `name` may be empty. Returns the id.
  Result<std::string> create_container(const nlohmann::json& config, std::string_view name,
                                       const Labels& labels);
  Status start(std::string_view id);  // an already started container is fine
  // Blocks until the container is not running (call it after start); timeout 0: no limit.
  Result<WaitResult> wait(std::string_view id, std::chrono::milliseconds timeout = {});
  // stdout and stderr of a container without a TTY, at most `max_per_stream` bytes each (the
  // transfer stops once both are full).
  Result<Logs> logs(std::string_view id, std::size_t max_per_stream);
  Result<nlohmann::json> inspect_container(std::string_view id);  // State.OOMKilled, ExitCode
  // A container that is not running (or gone) counts as killed.
  Status kill(std::string_view id, std::string_view signal = "SIGKILL");
  // With its anonymous volumes. A container that is already gone counts as removed.
  Status remove(std::string_view id, bool force = true);
  // Ids of all containers (running or not) with label `filter` ("key" or "key=value").
  Result<std::vector<std::string>> list_containers(std::string_view label_filter);

  // POST /build with a tar context (see TarWriter); a failed step is an error carrying the
  // builder's message. Returns the image id when the daemon reports one ("" otherwise).
  Result<std::string> build_image(std::string_view tar_context, std::string_view tag,
                                  const Labels& labels);
  // The same with a context streamed from `tar_context` (see BodySource): its read error is
  // the build's error. `no_cache`: no step is taken from the daemon's build cache.
  Result<std::string> build_image(const BodySource& tar_context, std::string_view tag,
                                  const Labels& labels, bool no_cache = false);
  // Local images with label `filter` ("key" or "key=value").
  Result<std::vector<ImageSummary>> list_images(std::string_view label_filter);
  Result<nlohmann::json> inspect_image(std::string_view name);  // Size, Id, Config.Labels
  Status remove_image(std::string_view name, bool force = false);  // gone counts as removed

 private:
  EngineOptions options_;
};

}  // namespace ignite::docker
