// Reading a runtime descriptor document (the runtimes/*.json format). Used at build time by
// descriptors_gen, which turns runtimes/*.json into the table descriptors() returns, and by the
// tests that check that table against the files.
#include "runtime/descriptor_json.hpp"

#include <nlohmann/json.hpp>

namespace ignite::runtime {
namespace {

using Json = nlohmann::json;

template <class T>
void get_to(const Json& j, const char* key, T& out) {
  if (j.contains(key)) j.at(key).get_to(out);
}

// One descriptor from its parsed document; throws Json::exception on a missing or mistyped key.
Result<Descriptor> from_json_or_throw(const Json& j) {
  Descriptor d;
  j.at("name").get_to(d.name);
  get_to(j, "description", d.description);
  get_to(j, "extensions", d.extensions);
  get_to(j, "defaultEntry", d.default_entry);
  if (j.contains("store")) {
    j["store"].at("binary").get_to(d.store_binary);
    j["store"].at("mountAt").get_to(d.store_mount);
  }
  if (j.contains("system")) {
    j["system"].at("binary").get_to(d.system_binary);
    d.system_goroot = j["system"].value("home", "") == "goroot";
  }
  get_to(j, "args", d.args);
  get_to(j, "env", d.env);
  get_to(j, "extraMounts", d.extra_mounts);
  get_to(j, "imageExclude", d.image_exclude);
  get_to(j, "baselineMb", d.baseline_mb);
  get_to(j, "compiled", d.compiled);
  if (j.contains("install")) {
    const Json& i = j["install"];
    i.at("kind").get_to(d.install.kind);
    get_to(i, "package", d.install.package);
    get_to(i, "baselinePackage", d.install.baseline_package);
    get_to(i, "file", d.install.file);
    get_to(i, "sourceGlob", d.install.source_glob);
    get_to(i, "make", d.install.make_target);
    get_to(i, "hint", d.install.hint);
  }
  if (j.contains("profiles")) {
    for (const auto& [name, p] : j["profiles"].items()) {
      ProfileDescriptor& out = d.profiles[name];
      get_to(p, "description", out.description);
      get_to(p, "requires", out.requires_paths);
      get_to(p, "extraMounts", out.extra_mounts);
      get_to(p, "env", out.env);
      get_to(p, "baselineMb", out.baseline_mb);
      get_to(p, "hint", out.hint);
    }
  }
  if (d.store_binary.empty() && d.system_binary.empty())
    return fail(ErrorCode::invalid_argument, "runtime " + d.name + ": needs store or system");
  return d;
}

Result<Descriptor> from_json(const Json& j) {
  try {
    return from_json_or_throw(j);
  } catch (const Json::exception& e) {
    return fail(ErrorCode::invalid_argument, std::string("runtime descriptor: ") + e.what());
  }
}

}  // namespace

Result<Descriptor> parse_descriptor(std::string_view text) {
  Json j;
  try {
    j = Json::parse(text);
  } catch (const Json::exception& e) {
    return fail(ErrorCode::invalid_argument, std::string("runtime descriptor: ") + e.what());
  }
  return from_json(j);
}

}  // namespace ignite::runtime
