#include "api/requests.hpp"

#include "config/service_config.hpp"

#include "core/json_limits.hpp"
#include "engine/languages.hpp"
#include "runtime/descriptors.hpp"

namespace ignite::api {
namespace {

using nlohmann::json;

// "field 'files[2].name' is required", with the path also on its own for clients.
RequestError field_error(int status, const std::string& path, const std::string& what) {
  RequestError e = status == 400 ? bad_request("field '" + path + "' " + what) : unprocessable("field '" + path + "' " + what);
  e.field = path;
  return e;
}

// Reads an optional field of an expected JSON type; a wrong type is a 400 naming the field.
template <class T>
std::optional<RequestError> field(const json& obj, const char* name, json::value_t type,
                               const char* type_name, std::optional<T>& out) {
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  const bool number_ok = type == json::value_t::number_unsigned && it->is_number_integer();
  if (it->type() != type && !number_ok)
    return field_error(400, name, std::string("must be ") + type_name);
  out = it->get<T>();
  return std::nullopt;
}

std::optional<RequestError> string_array(const json& obj, const char* name,
                                      std::vector<std::string>& out) {
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (!it->is_array()) return field_error(400, name, "must be an array of strings");
  for (const auto& v : *it) {
    if (!v.is_string()) return field_error(400, name, "must be an array of strings");
    out.push_back(v.get<std::string>());
  }
  return std::nullopt;
}

// A limit given in the request: an integer within [lo, hi], else 422 naming the bound.
std::optional<RequestError> bounded(const json& obj, const char* name, std::uint32_t lo,
                                 std::uint32_t hi, std::uint32_t& out) {
  auto it = obj.find(name);
  if (it == obj.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer()) return field_error(400, name, "must be an integer");
  const auto v = it->get<std::int64_t>();
  if (v < lo || v > hi)
    return field_error(422, name, "must be between " + std::to_string(lo) +
                         " and " + std::to_string(hi));
  out = static_cast<std::uint32_t>(v);
  return std::nullopt;
}

}  // namespace

Decoded<json> parse_object(std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return json::object();
  // Security: bounded depth, checked before the document is built (see api/json_limits.hpp).
  auto doc = parse_json_bounded(body);
  if (!doc) return bad_request("request body is " + doc.error().message);
  if (!doc->is_object()) return bad_request("request body must be a JSON object");
  return std::move(*doc);
}

Decoded<ServiceExecute> decode_service_execute(std::string_view body) {
  auto parsed = parse_object(body);
  if (auto* e = std::get_if<RequestError>(&parsed)) return *e;
  return decode_service_execute_object(std::get<json>(parsed));
}

Decoded<ServiceExecute> decode_service_execute_object(const json& doc) {
  if (!doc.is_object()) return bad_request("request body must be a JSON object");
  ServiceExecute out;
  if (auto it = doc.find("input"); it != doc.end()) out.input_json = it->dump();
  std::optional<bool> skip;
  if (auto e = field(doc, "skipPreflight", json::value_t::boolean, "a boolean", skip)) return *e;
  out.skip_preflight = skip.value_or(false);
  return out;
}

Decoded<AdhocJob> decode_adhoc(std::string_view body, const AdhocLimits& limits) {
  auto parsed = parse_object(body);
  if (auto* e = std::get_if<RequestError>(&parsed)) return *e;
  return decode_adhoc_object(std::get<json>(parsed), limits);
}

Decoded<AdhocJob> decode_adhoc_object(const json& doc, const AdhocLimits& limits) {
  if (!doc.is_object()) return bad_request("request body must be a JSON object");
  AdhocJob job;
  engine::AdhocRequest& req = job.request;

  std::optional<std::string> runtime, version, code, stdin_text, key;
  if (auto e = field(doc, "runtime", json::value_t::string, "a string", runtime)) return *e;
  if (!runtime) runtime = doc.value("language", json()).is_string() ? doc["language"].get<std::string>() : "";
  if (runtime->empty()) return field_error(422, "runtime", "is required (e.g. \"python\")");
  if (auto e = field(doc, "version", json::value_t::string, "a string", version)) return *e;
  std::string language = *runtime;
  std::string ver = version.value_or("");
  if (const auto at = language.find('@'); at != std::string::npos && ver.empty()) {
    ver = language.substr(at + 1);
    language.resize(at);
  }
  auto ref = engine::runtime_for_language(language, ver);
  if (!ref) {
    RequestError e = unprocessable("field 'runtime': " + ref.error().message);
    e.field = "runtime";
    return e;
  }
  req.runtime = *ref;

  if (auto e = field(doc, "code", json::value_t::string, "a string", code)) return *e;
  const bool has_files = doc.contains("files") && !doc["files"].is_null();
  if (code.has_value() == has_files) return unprocessable("give exactly one of 'code' or 'files'");
  if (code) {
    req.files.push_back({engine::entry_name_for(language, req.runtime), *code});
  } else {
    const json& files = doc["files"];
    if (!files.is_array()) return field_error(400, "files", "must be an array of {name, content}");
    if (files.empty()) return field_error(422, "files", "must not be empty");
    for (std::size_t i = 0; i < files.size(); ++i) {
      const json& f = files[i];
      const std::string where = "files[" + std::to_string(i) + "]";
      if (!f.is_object() || !f.contains("content") || !f["content"].is_string())
        return field_error(400, where + ".content", "must be a string");
      std::string name;
      if (f.contains("name") && !f["name"].is_null()) {
        if (!f["name"].is_string()) return field_error(400, where + ".name", "must be a string");
        name = f["name"].get<std::string>();
      }
      // Only the entry may be nameless (Piston style); the engine checks names for traversal.
      if (name.empty()) {
        if (i != 0) return field_error(422, where + ".name", "is required");
        name = engine::entry_name_for(language, req.runtime);
      }
      req.files.push_back({std::move(name), f["content"].get<std::string>()});
    }
  }
  if (auto e = field(doc, "stdin", json::value_t::string, "a string", stdin_text)) return *e;
  req.stdin_data = stdin_text.value_or("");
  if (auto it = doc.find("input"); it != doc.end()) req.input_json = it->dump();
  if (auto e = string_array(doc, "args", req.args)) return *e;
  req.memory_mb = limits.default_memory_mb;
  req.timeout_ms = limits.default_timeout_ms;
  if (auto e = bounded(doc, "memoryMb", 16, limits.max_memory_mb, req.memory_mb)) return *e;
  if (auto e = bounded(doc, "timeoutMs", 100, limits.max_timeout_ms, req.timeout_ms)) return *e;
  std::optional<std::string> isolation;
  if (auto e = field(doc, "isolation", json::value_t::string, "a string", isolation)) return *e;
  if (isolation && !config::valid_isolation(*isolation))
    return field_error(422, "isolation", "must be native, docker or microvm");
  req.isolation = isolation.value_or("");
  std::optional<std::string> profile;
  if (auto e = field(doc, "profile", json::value_t::string, "a string", profile)) return *e;
  req.profile = profile.value_or("");  // the engine says whether the runtime has it
  if (auto e = field(doc, "idempotencyKey", json::value_t::string, "a string", key)) return *e;
  if (key && key->size() > 200) return field_error(422, "idempotencyKey", "is longer than 200 characters");
  job.idempotency_key = key.value_or("");
  return job;
}

}  // namespace ignite::api
