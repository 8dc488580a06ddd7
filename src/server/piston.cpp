#include "server/piston.hpp"

#include <algorithm>
#include <cmath>

#include "api/result_json.hpp"
#include "runtime/descriptors.hpp"

namespace ignite::server {
namespace {

using nlohmann::json;

struct LanguageOf {
  std::string_view extension;
  std::string_view language;
  std::vector<std::string> aliases;
};

// Piston's language names for the file types our runtimes run. Other extensions (.tsx, .mjs)
// are variants of these and get no entry of their own.
const std::vector<LanguageOf>& languages() {
  static const std::vector<LanguageOf> table = {
      {".py", "python", {"py", "py3", "python3"}},
      {".js", "javascript", {"js"}},
      {".ts", "typescript", {"ts"}},
      {".go", "go", {"golang"}},
  };
  return table;
}

// Piston clients send exact versions ("3.11.2"), prefixes ("3"), or "*".
bool version_matches(const std::string& installed, const std::string& wanted) {
  if (wanted.empty() || wanted == "*" || wanted == "latest") return true;
  if (installed == wanted) return true;
  return installed.size() > wanted.size() && installed.compare(0, wanted.size(), wanted) == 0 &&
         installed[wanted.size()] == '.';
}

json run_stage(const ExecutionResult& r, const std::string& output) {
  const std::string_view status = status_name(r.outcome, r.exit_code);
  json stage = {
      {"stdout", api::sanitize_utf8(r.stdout_data)},
      {"stderr", api::sanitize_utf8(r.stderr_data)},
      {"output", api::sanitize_utf8(output)},
      {"code", r.outcome == Outcome::exited ? json(r.exit_code) : json(nullptr)},
      {"signal", r.signal > 0 ? json(api::signal_name(r.signal)) : json(nullptr)},
      {"message", r.detail.empty() ? json(nullptr) : json(api::sanitize_utf8(r.detail))},
      {"cpu_time", static_cast<double>(r.usage.cpu.count()) / 1000.0},
      {"wall_time", static_cast<double>(r.usage.wall.count()) / 1000.0},
      {"memory", r.usage.peak_memory_bytes},
  };
  // Piston's status codes: RE runtime error, SG signal, TO timeout, OL/EL output limits.
  if (status == "runtime_error") stage["status"] = "RE";
  else if (status == "timeout") stage["status"] = "TO";
  else if (status == "output_limit") stage["status"] = "OL";
  else if (status != "ok") stage["status"] = "SG";
  else stage["status"] = nullptr;
  return stage;
}

}  // namespace

std::vector<PistonRuntime> piston_runtimes(const std::vector<runtime::Installed>& installed) {
  std::vector<PistonRuntime> out;
  for (const auto& rt : installed) {
    const auto* d = runtime::find_descriptor(rt.name);
    if (d == nullptr) continue;
    for (const auto& lang : languages()) {
      if (std::find(d->extensions.begin(), d->extensions.end(), lang.extension) == d->extensions.end())
        continue;
      const bool seen = std::any_of(out.begin(), out.end(), [&](const PistonRuntime& p) {
        return p.runtime == rt.name && p.version == rt.version && p.language == lang.language;
      });
      if (seen) continue;
      PistonRuntime p{std::string(lang.language), rt.version, rt.name, std::string(lang.extension),
                      lang.aliases};
      // "node-javascript", "bun-typescript": Piston's way to pick one runtime of a language.
      if (rt.name != p.language) {
        p.aliases.push_back(rt.name + "-" + p.language);
        p.aliases.push_back(rt.name);
      }
      out.push_back(std::move(p));
    }
  }
  return out;
}

json piston_runtimes_json(const std::vector<PistonRuntime>& runtimes) {
  json out = json::array();
  for (const auto& p : runtimes) {
    out.push_back({{"language", p.language}, {"version", p.version}, {"aliases", p.aliases},
                   {"runtime", p.runtime}});
  }
  return out;
}

json piston_error(const std::string& message) { return {{"message", api::sanitize_utf8(message)}}; }

Decoded<PistonJob> decode_piston(std::string_view body, const std::vector<PistonRuntime>& runtimes,
                                 const AdhocLimits& limits) {
  auto parsed = parse_object(body);
  if (auto* e = std::get_if<HttpError>(&parsed)) return *e;
  const json& doc = std::get<json>(parsed);
  if (!doc.contains("language") || !doc["language"].is_string())
    return bad_request("language is required as a string");
  PistonJob job;
  job.language = doc["language"].get<std::string>();
  const std::string wanted = doc.contains("version") && doc["version"].is_string()
                                 ? doc["version"].get<std::string>() : "*";
  // The first match is the newest: the catalog lists versions newest first.
  const PistonRuntime* match = nullptr;
  for (const auto& p : runtimes) {
    const bool named = p.language == job.language ||
                       std::find(p.aliases.begin(), p.aliases.end(), job.language) != p.aliases.end();
    if (named && version_matches(p.version, wanted)) {
      match = &p;
      break;
    }
  }
  if (match == nullptr) return bad_request(job.language + "-" + wanted + " runtime is unknown");
  job.version = match->version;
  engine::AdhocRequest& req = job.request;
  req.runtime = {match->runtime, match->version};

  if (!doc.contains("files") || !doc["files"].is_array() || doc["files"].empty())
    return bad_request("files is required as a non-empty array");
  for (std::size_t i = 0; i < doc["files"].size(); ++i) {
    const json& f = doc["files"][i];
    if (!f.is_object() || !f.contains("content") || !f["content"].is_string())
      return bad_request("files[" + std::to_string(i) + "].content is required as a string");
    std::string name = f.contains("name") && f["name"].is_string() ? f["name"].get<std::string>() : "";
    // Unnamed files get names with the language's extension: the runtime picks its mode by it.
    if (name.empty()) name = (i == 0 ? std::string("main") : "file" + std::to_string(i)) + match->extension;
    req.files.push_back({std::move(name), f["content"].get<std::string>()});
  }
  if (doc.contains("stdin") && doc["stdin"].is_string()) req.stdin_data = doc["stdin"].get<std::string>();
  if (doc.contains("args") && doc["args"].is_array()) {
    for (const auto& a : doc["args"]) {
      if (!a.is_string()) return bad_request("args must be an array of strings");
      req.args.push_back(a.get<std::string>());
    }
  }
  req.timeout_ms = limits.default_timeout_ms;
  req.memory_mb = limits.default_memory_mb;
  if (doc.contains("run_timeout") && doc["run_timeout"].is_number()) {
    const double ms = doc["run_timeout"].get<double>();
    if (ms > limits.max_timeout_ms)
      return bad_request("run_timeout cannot exceed the configured limit of " +
                         std::to_string(limits.max_timeout_ms));
    if (ms > 0) req.timeout_ms = std::max<std::uint32_t>(100, static_cast<std::uint32_t>(ms));
  }
  // Piston's memory limits are in bytes, -1 meaning "the default".
  if (doc.contains("run_memory_limit") && doc["run_memory_limit"].is_number()) {
    const double bytes = doc["run_memory_limit"].get<double>();
    const double mb = std::ceil(bytes / (1024.0 * 1024.0));
    if (mb > limits.max_memory_mb)
      return bad_request("run_memory_limit cannot exceed the configured limit of " +
                         std::to_string(std::uint64_t{limits.max_memory_mb} << 20));
    if (bytes > 0) req.memory_mb = std::max<std::uint32_t>(16, static_cast<std::uint32_t>(mb));
  }
  return job;
}

json piston_result(const PistonJob& job, const engine::JobReport& report, const std::string& combined) {
  const ExecutionResult& r = report.result;
  json out = {{"language", job.language}, {"version", job.version},
              {"run", run_stage(r, combined.empty() ? r.stdout_data + r.stderr_data : combined)}};
  if (report.compile) {
    const ExecutionResult& c = *report.compile;
    out["compile"] = run_stage(c, c.stdout_data + c.stderr_data);
  }
  return out;
}

}  // namespace ignite::server
