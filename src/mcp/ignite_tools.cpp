#include "mcp/ignite_tools.hpp"

#include <algorithm>
#include <array>
#include <cstdio>

#include "api/requests.hpp"
#include "api/result_json.hpp"

namespace ignite::mcp {
namespace {

using json = nlohmann::json;

// What run_code and run_service return (CONTRACT §4); the SDKs check structuredContent against
// it, so it names only what every result document has and lets the rest through.
json result_schema() {
  return {{"type", "object"},
          {"properties",
           {{"status",
             {{"type", "string"},
              {"enum", {"ok", "runtime_error", "timeout", "memory_limit", "signaled", "syscall_blocked",
                        "output_limit", "cancelled"}}}},
            {"success", {{"type", "boolean"}}},
            {"stdout", {{"type", "string"}}},
            {"stderr", {{"type", "string"}}},
            {"exitCode", {{"type", {"integer", "null"}}}},
            {"metrics", {{"type", "object"}}}}},
          {"required", {"status", "success", "stdout", "stderr", "metrics"}}};
}

json run_code_tool() {
  json files_item = {{"type", "object"},
                     {"properties", {{"name", {{"type", "string"}}}, {"content", {{"type", "string"}}}}},
                     {"required", {"name", "content"}}};
  return {
      {"name", "run_code"},
      {"title", "Run code in a sandbox"},
      {"description",
       "Runs a program in a fresh sandbox (no network, memory and time limits) and returns its stdout, stderr, "
       "exit status and metrics (wall and CPU time, peak memory). Give `code` (one file) or `files` (the first is "
       "the entry point). The program reads `input` as JSON from the IGNITE_INPUT environment variable; files it "
       "writes to /out come back (images as image content)."},
      {"inputSchema",
       {{"type", "object"},
        {"properties",
         {{"runtime", {{"type", "string"}, {"description", "python, node, bun, deno, quickjs, go (or javascript, typescript)"}}},
          {"version", {{"type", "string"}, {"description", "A version prefix (\"3\", \"20\"); default: the newest installed"}}},
          {"code", {{"type", "string"}, {"description", "The program text"}}},
          {"files", {{"type", "array"}, {"items", files_item}}},
          {"stdin", {{"type", "string"}}},
          {"input", {{"description", "Any JSON value, passed as IGNITE_INPUT"}}},
          {"args", {{"type", "array"}, {"items", {{"type", "string"}}}}},
          {"profile", {{"type", "string"}, {"description", "\"datascience\" (python): numpy, pandas, matplotlib; save charts to /out"}}},
          {"memoryMb", {{"type", "integer"}, {"minimum", 16}}},
          {"timeoutMs", {{"type", "integer"}, {"minimum", 100}}}}},
        {"required", {"runtime"}}}},
      {"outputSchema", result_schema()},
      {"annotations", {{"readOnlyHint", false}, {"destructiveHint", false}, {"openWorldHint", false}}}};
}

json run_service_tool() {
  return {{"name", "run_service"},
          {"title", "Run a service"},
          {"description",
           "Runs one of the server's services (see list_services) with `input` as its JSON input, in a fresh "
           "sandbox with the service's limits, and returns its output, status and metrics."},
          {"inputSchema",
           {{"type", "object"},
            {"properties",
             {{"name", {{"type", "string"}, {"description", "The service name"}}},
              {"input", {{"description", "Any JSON value, passed as IGNITE_INPUT"}}},
              {"skipPreflight", {{"type", "boolean"}}}}},
            {"required", {"name"}}}},
          {"outputSchema", result_schema()},
          {"annotations", {{"readOnlyHint", false}, {"destructiveHint", false}, {"openWorldHint", false}}}};
}

json listing_tool(const char* name, const char* title, const char* description, json output_schema) {
  return {{"name", name},
          {"title", title},
          {"description", description},
          {"inputSchema", {{"type", "object"}, {"properties", json::object()}}},
          {"outputSchema", std::move(output_schema)},
          {"annotations", {{"readOnlyHint", true}, {"openWorldHint", false}}}};
}

std::string format_ms(const json& value) {
  if (!value.is_number()) return "?";
  char text[32];
  std::snprintf(text, sizeof text, "%.1f ms", value.get<double>());
  return text;
}

// The refusal of a request, for the model: "invalid_request: files[1].name: ...".
json request_error(const api::RequestError& e) {
  std::string text = e.code + ": " + e.message;
  if (!e.field.empty() && e.message.find(e.field) == std::string::npos) text += " (field " + e.field + ")";
  if (e.retry_after_s > 0) text += "; retry in " + std::to_string(e.retry_after_s) + " s";
  return tool_error(text);
}

json finish(const api::Decoded<engine::JobReport>& report) {
  if (auto* e = std::get_if<api::RequestError>(&report)) return request_error(*e);
  return run_result(api::result_document(std::get<engine::JobReport>(report)));
}

}  // namespace

json tool_error(const std::string& message) {
  return {{"content", {{{"type", "text"}, {"text", message}}}}, {"isError", true}};
}

json run_result(const json& document) {
  const json& m = document.value("metrics", json::object());
  std::string text = "status: " + document.value("status", std::string("?"));
  if (auto code = document.find("exitCode"); code != document.end() && code->is_number())
    text += " (exit " + std::to_string(code->get<int>()) + ")";
  if (auto sig = document.find("signal"); sig != document.end() && sig->is_string()) text += " (" + sig->get<std::string>() + ")";
  text += ", " + document.value("runtime", std::string()) + ", wall " + format_ms(m.value("executionTimeMs", json())) +
          ", cpu " + format_ms(m.value("cpuTimeMs", json()));
  if (auto mb = m.find("memoryUsedMb"); mb != m.end() && mb->is_number()) {
    char peak[48];
    std::snprintf(peak, sizeof peak, ", peak memory %.1f MB", mb->get<double>());
    text += peak;
  }
  for (const char* stream : {"stdout", "stderr"}) {
    const std::string body = document.value(stream, std::string());
    const std::string encoding = document.value(std::string(stream) + "Encoding", std::string());
    text += std::string("\n--- ") + stream + (encoding == "base64" ? " (base64) ---\n" : " ---\n") + body;
    if (document.value(std::string(stream) + "Truncated", false)) text += "\n[truncated]";
  }
  // Files the program left in /out: named in the text, images also as image content.
  json images = json::array();
  if (auto files = document.find("files"); files != document.end() && files->is_array()) {
    text += "\n--- files in /out ---";
    for (const auto& f : *files) {
      const std::string mime = f.value("mimeType", std::string());
      text += "\n" + f.value("path", std::string()) + " (" + mime + ", " +
              std::to_string(f.value("size", std::uint64_t{0})) + " bytes)";
      static constexpr std::array<std::string_view, 4> kImages = {"image/png", "image/jpeg", "image/gif", "image/webp"};
      if (f.value("encoding", std::string()) == "base64" &&
          std::find(kImages.begin(), kImages.end(), mime) != kImages.end())
        images.push_back({{"type", "image"}, {"data", f.value("content", std::string())}, {"mimeType", mime}});
    }
    if (document.value("filesTruncated", false)) text += "\n[some files were over the size cap and left out]";
    if (auto why = document.find("filesError"); why != document.end()) text += "\n[/out not taken: " + why->get<std::string>() + "]";
  }
  json content = json::array({{{"type", "text"}, {"text", std::move(text)}}});
  for (auto& image : images) content.push_back(std::move(image));
  return {{"content", std::move(content)}, {"structuredContent", document}, {"isError", false}};
}

json IgniteTools::list() {
  json runtimes_schema = {{"type", "object"}, {"properties", {{"runtimes", {{"type", "array"}}}}}, {"required", {"runtimes"}}};
  json services_schema = {{"type", "object"}, {"properties", {{"services", {{"type", "array"}}}}}, {"required", {"services"}}};
  return {run_code_tool(), run_service_tool(),
          listing_tool("list_runtimes", "List runtimes", "The runtimes and versions run_code can use.", std::move(runtimes_schema)),
          listing_tool("list_services", "List services",
                       "The services run_service can run (name, runtime, entry, limits), and directories that are "
                       "not valid services with the reason.",
                       std::move(services_schema))};
}

std::optional<json> IgniteTools::call(const std::string& name, const json& arguments, std::stop_token stop) {
  if (name == "run_code") return run_code(arguments, stop);
  if (name == "run_service") return run_service(arguments, stop);
  if (name == "list_runtimes") return list_runtimes();
  if (name == "list_services") return list_services();
  return std::nullopt;
}

json IgniteTools::run_code(const json& arguments, std::stop_token stop) {
  // The same decoder as POST /v1/execute: the same fields, limits and refusals.
  auto decoded = api::decode_adhoc_object(arguments, runner_.limits);
  if (auto* e = std::get_if<api::RequestError>(&decoded)) return request_error(*e);
  engine::AdhocRequest request = std::move(std::get<api::AdhocJob>(decoded).request);
  runner::Work work = [this, request = std::move(request)](std::stop_token s, const sandbox::OutputSink& sink) {
    return runner_.engine.execute_adhoc(request, s, sink);
  };
  return finish(runner_.run(work, {}, stop));
}

json IgniteTools::run_service(const json& arguments, std::stop_token stop) {
  if (services_ == nullptr) return tool_error("no services here: start the server with --services DIR");
  auto name = arguments.find("name");
  if (name == arguments.end() || !name->is_string()) return tool_error("bad_request: \"name\" must be a string");
  auto found = services_->find(*name);
  if (auto* e = std::get_if<api::RequestError>(&found)) return request_error(*e);
  json body = json::object();
  for (const char* key : {"input", "skipPreflight"})
    if (auto it = arguments.find(key); it != arguments.end()) body[key] = *it;
  auto decoded = api::decode_service_execute_object(body);
  if (auto* e = std::get_if<api::RequestError>(&decoded)) return request_error(*e);
  const auto& execute = std::get<api::ServiceExecute>(decoded);
  engine::JobRequest job{std::get<config::ServiceConfig>(std::move(found)), execute.input_json, execute.skip_preflight, ""};
  runner::Work work = [this, job](std::stop_token s, const sandbox::OutputSink& sink) {
    return runner_.engine.execute(job, s, sink);
  };
  auto report = runner_.run(work, {}, stop);
  if (auto* r = std::get_if<engine::JobReport>(&report)) services_->record_run(job.service.name, *r);
  return finish(report);
}

json IgniteTools::list_runtimes() {
  json list = json::array();
  std::string text;
  for (const auto& rt : runtimes_()) {
    list.push_back({{"name", rt.name}, {"version", rt.version}, {"label", rt.label()}});
    text += rt.label() + "\n";
  }
  json doc = {{"runtimes", std::move(list)}};
  return {{"content", {{{"type", "text"}, {"text", text.empty() ? "no runtimes installed" : text}}}},
          {"structuredContent", std::move(doc)}};
}

json IgniteTools::list_services() {
  json doc = services_ != nullptr ? services_->listing() : json{{"services", json::array()}, {"invalid", json::array()}};
  std::string text;
  for (const auto& s : doc["services"])
    text += s.value("name", std::string()) + " (" + s.value("runtime", std::string()) + ")\n";
  for (const auto& bad : doc.value("invalid", json::array()))
    text += "invalid: " + bad.value("directory", std::string()) + ": " + bad.value("error", std::string()) + "\n";
  if (text.empty()) text = services_ != nullptr ? "no services" : "no services directory is served";
  return {{"content", {{{"type", "text"}, {"text", std::move(text)}}}}, {"structuredContent", std::move(doc)}};
}

}  // namespace ignite::mcp
