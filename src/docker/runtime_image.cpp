#include "docker/runtime_image.hpp"

#include <algorithm>

#include "config/service_config.hpp"
#include "docker/image_context.hpp"
#include "runtime/descriptors.hpp"
#include "sys/sha256.hpp"

namespace ignite::docker {
namespace {

using nlohmann::json;

// A tag part (Docker: [A-Za-z0-9_.-], not starting with '.' or '-').
bool tag_text(std::string_view text) {
  if (text.empty() || text.size() > 80 || text.front() == '.' || text.front() == '-') return false;
  return std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
  });
}

bool repository_text(std::string_view text) {
  return !text.empty() && text.size() <= 40 && std::all_of(text.begin(), text.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  });
}

Labels runtime_labels(const runtime::Installed& rt) {
  return {{std::string(kImageLabel), "runtime"},
          {std::string(kRuntimeLabel), rt.name},
          {std::string(kRuntimeVersionLabel), rt.version}};
}

std::string repository_of(const runtime::Installed& rt) {
  return std::string(kRuntimeImageRepository) + "/" + rt.name;
}

// Older images of this runtime version (the runtime or the init changed since, or --rebuild
// moved the tag away from them): deleted by id, which the daemon refuses without force while a
// container uses the image — it stays then, as on any other failure: this is only tidying.
void remove_replaced(EngineClient& client, const runtime::Installed& rt, const std::vector<ImageSummary>& present,
                     const RuntimeImage& current) {
  for (const ImageSummary& image : present) {
    const auto version = image.labels.find(std::string(kRuntimeVersionLabel));
    const auto kind = image.labels.find(std::string(kImageLabel));
    if (image.id == current.id || version == image.labels.end() || version->second != rt.version ||
        kind == image.labels.end() || kind->second != "runtime")
      continue;
    // An image someone tagged under another name is theirs now.
    const std::string ours = repository_of(rt) + ":";
    if (!std::all_of(image.tags.begin(), image.tags.end(),
                     [&ours](const std::string& tag) { return tag.compare(0, ours.size(), ours) == 0; }))
      continue;
    static_cast<void>(client.remove_image(image.id, false));
  }
}

Result<std::pair<std::string, std::uint64_t>> id_and_size(EngineClient& client, std::string_view tag) {
  IGNITE_TRY_ASSIGN(const json image, client.inspect_image(tag));
  if (!image.is_object() || !image.contains("Id") || !image["Id"].is_string() || !image.contains("Size") ||
      !image["Size"].is_number_unsigned())
    return fail(ErrorCode::internal, "docker image inspect " + std::string(tag) + ": no Id or Size in the daemon's answer");
  return std::pair{image["Id"].get<std::string>(), image["Size"].get<std::uint64_t>()};
}

}  // namespace

Result<std::string> runtime_image_tag(const runtime::Installed& rt, const ImageContents& contents,
                                      const std::filesystem::path& init_binary) {
  if (!repository_text(rt.name))
    return fail(ErrorCode::invalid_argument, "runtime name '" + rt.name + "' cannot name an image (a-z, 0-9)");
  if (!tag_text(rt.version))
    return fail(ErrorCode::invalid_argument, "runtime version '" + rt.version + "' cannot be part of an image tag");
  sys::Sha256 h;
  hash_image(h, kRuntimeImageFormat, rt, contents);
  IGNITE_TRY(h.update_file(init_binary));
  return repository_of(rt) + ":" + rt.version + "-" + h.hex().substr(0, 12);
}

Result<RuntimeImage> ensure_runtime_image(EngineClient& client, const runtime::Installed& rt,
                                          const std::filesystem::path& init_binary, bool rebuild,
                                          const HostLayout& host) {
  const runtime::Descriptor* descriptor = runtime::find_descriptor(rt.name);
  IGNITE_TRY_ASSIGN(const ImageContents contents,
                    list_image_contents(rt, init_binary, host,
                                        descriptor != nullptr ? descriptor->image_exclude : std::vector<std::string>{}));
  RuntimeImage image;
  IGNITE_TRY_ASSIGN(image.tag, runtime_image_tag(rt, contents, init_binary));
  image.unresolved = contents.unresolved;
  IGNITE_TRY_ASSIGN(const std::vector<ImageSummary> present,
                    client.list_images(std::string(kRuntimeLabel) + "=" + rt.name));
  const auto tagged = [&image](const ImageSummary& i) {
    return std::find(i.tags.begin(), i.tags.end(), image.tag) != i.tags.end();
  };
  if (!rebuild) {
    if (const auto found = std::find_if(present.begin(), present.end(), tagged); found != present.end()) {
      image.id = found->id;
      image.size_bytes = found->size_bytes;
      return image;
    }
  }
  IGNITE_TRY_ASSIGN(ImageContext context, ImageContext::make(contents));
  const BodySource body = context.stream();
  // Never from the daemon's build cache: its key for a COPY ignores mtimes, and a layer cached
  // from an older format (files at mtime 0) would come back under the new tag.
  IGNITE_TRY(client.build_image(body, image.tag, runtime_labels(rt), true));
  IGNITE_TRY_ASSIGN(std::tie(image.id, image.size_bytes), id_and_size(client, image.tag));
  image.built = true;
  remove_replaced(client, rt, present, image);
  return image;
}

Result<std::uint64_t> image_size(EngineClient& client, std::string_view tag) {
  IGNITE_TRY_ASSIGN(const auto found, id_and_size(client, tag));
  return found.second;
}

Result<runtime::Installed> image_runtime(std::string_view label, const runtime::Catalog& catalog) {
  if (label.empty()) {
    runtime::Installed rt;
    rt.name = "static";
    rt.version = "1";
    return rt;
  }
  const auto at = label.find('@');
  IGNITE_TRY_ASSIGN(config::RuntimeRef ref, config::parse_runtime_ref(label.substr(0, at)));
  if (at != std::string_view::npos) ref.version = std::string(label.substr(at + 1));
  return catalog.resolve(ref);
}

}  // namespace ignite::docker
