// Runtime images: one minimal local image per installed runtime (the files of ImageContents,
// built `FROM scratch` through the daemon's build endpoint; no registry is ever asked), tagged
// by runtime, version and a hash of what went in, so a changed runtime or init binary gets a
// new image and an unchanged one is found again instead of rebuilt.
#pragma once
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "docker/engine_client.hpp"
#include "docker/image_contents.hpp"
#include "runtime/catalog.hpp"

namespace ignite::docker {

inline constexpr std::string_view kRuntimeImageRepository = "ignite-runtime";
// Part of every tag's hash: bump it when what goes into an image changes in this code.
inline constexpr std::string_view kRuntimeImageFormat = "ignite-runtime-image/2";  // 2: files keep their mtimes
inline constexpr std::string_view kImageLabel = "ignite.image";  // "runtime" on ours
inline constexpr std::string_view kRuntimeLabel = "ignite.runtime";
inline constexpr std::string_view kRuntimeVersionLabel = "ignite.runtime.version";

struct RuntimeImage {
  std::string tag;  // "ignite-runtime/python:3.11.2-0123456789ab"
  std::string id;   // "sha256:..."
  std::uint64_t size_bytes = 0;
  bool built = false;  // built by this call (else it was there already)
  std::vector<std::string> unresolved;  // libraries some file of the runtime needs that are missing
};

// `ignite-runtime/<name>:<version>-<12 hex>`: the hash covers the format above, the runtime's
// name and version, every entry of `contents` (path, kind, mode, size, mtime, link text, text
// bytes) and the init binary's bytes. Fails when the name or version cannot be part of a tag.
Result<std::string> runtime_image_tag(const runtime::Installed& rt, const ImageContents& contents,
                                      const std::filesystem::path& init_binary);

// The local image of `rt` when one with its tag exists (and `rebuild` is false), else builds
// it (never from the daemon's build cache) and removes older images of the same runtime
// version that no container uses. Fails as list_image_contents does, with the client's errors
// (`unavailable` when no daemon answers) and with the build's.
Result<RuntimeImage> ensure_runtime_image(EngineClient& client, const runtime::Installed& rt,
                                          const std::filesystem::path& init_binary, bool rebuild = false,
                                          const HostLayout& host = {});

// The runtime a spec's image is made of (SandboxSpec::runtime_image, "python@3.11.2"), from
// the catalog; an empty label is the `static` image (our init only, for a compiled program).
Result<runtime::Installed> image_runtime(std::string_view label, const runtime::Catalog& catalog);

// The size the daemon reports for a local image.
Result<std::uint64_t> image_size(EngineClient& client, std::string_view tag);

}  // namespace ignite::docker
