#include "api/ignis.hpp"

#include <cmath>

#include "api/result_json.hpp"
#include "core/utf8.hpp"

namespace ignite::api {
namespace {

using nlohmann::json;

json base(const std::string& id, std::string_view status) {
  return {{"id", id},         {"status", status}, {"message", ""},     {"error", ""},
          {"stdout", ""},     {"stderr", ""},     {"exec_duration", 0}, {"mem_usage", 0}};
}

// What an Ignis client shows for a run that did not succeed.
std::string outcome_error(const json& doc) {
  const std::string status = doc.value("status", "");
  if (status == "runtime_error")
    return "runtime_error: exited with code " + std::to_string(doc.value("exitCode", 0));
  if (status == "timeout") return "timeout: the time limit was exceeded";
  if (status == "memory_limit") return "memory_limit: the memory limit was exceeded";
  if (status == "output_limit") return "output_limit: the output limit was exceeded";
  if (status == "syscall_blocked") return "syscall_blocked: a forbidden system call was made";
  if (status == "signaled") return "signaled: killed by a signal";
  if (status == "cancelled") return "cancelled";
  return status;
}

// The first `limit` bytes of `text`, cut where the encoding allows: base64 in whole quanta,
// UTF-8 not inside a character (core/utf8.hpp).
std::string cut(const std::string& text, std::size_t limit, bool base64) {
  if (text.size() <= limit) return text;
  if (base64) return text.substr(0, limit - limit % 4);
  const std::string_view head(text.data(), limit);
  return std::string(head.substr(0, utf8_boundary(head)));
}

}  // namespace

bool usable_job_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (const char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::variant<IgnisJob, IgnisRejected> decode_ignis_job(std::string_view body, const AdhocLimits& limits,
                                                       std::size_t max_code_bytes) {
  auto parsed = parse_object(body);
  if (auto* e = std::get_if<RequestError>(&parsed)) return IgnisRejected{"", *e};
  const json& doc = std::get<json>(parsed);
  std::string id;
  if (auto it = doc.find("id"); it != doc.end() && it->is_string()) id = it->get<std::string>();
  if (!usable_job_id(id)) {
    return IgnisRejected{"", bad_request(id.empty() ? "field 'id' is required (a string)"
                                                    : "field 'id' must be 1 to 128 of A-Z a-z 0-9 - _")};
  }
  if (auto it = doc.find("variant"); it != doc.end() && !it->is_null() && !it->is_string())
    return IgnisRejected{id, bad_request("field 'variant' must be a string")};
  if (doc.contains("idempotencyKey"))
    return IgnisRejected{id, unprocessable("field 'idempotencyKey' is not for jobs: the id is the key")};
  auto decoded = decode_adhoc_object(doc, limits);  // parsed once, above
  if (auto* e = std::get_if<RequestError>(&decoded)) return IgnisRejected{id, *e};
  IgnisJob job{id, std::move(std::get<AdhocJob>(decoded).request)};
  std::size_t code_bytes = 0;
  for (const auto& f : job.request.files) code_bytes += f.content.size();
  if (code_bytes > max_code_bytes)
    return IgnisRejected{id, unprocessable("the code is larger than " + std::to_string(max_code_bytes) + " bytes")};
  return job;
}

json job_message(const std::string& id, const engine::AdhocRequest& r) {
  json files = json::array();
  for (const auto& f : r.files) files.push_back({{"name", f.name}, {"content", f.content}});
  json out = {{"id", id},          {"runtime", r.runtime.name}, {"files", std::move(files)},
              {"stdin", r.stdin_data}, {"args", r.args},         {"memoryMb", r.memory_mb},
              {"timeoutMs", r.timeout_ms}};
  if (!r.runtime.version.empty()) out["version"] = r.runtime.version;
  // Canonical JSON text made by our own decoder: parses.
  if (r.input_json) out["input"] = json::parse(*r.input_json);
  return out;
}

json ignis_progress(const std::string& id, std::string_view status, std::string_view message) {
  json out = base(id, status);
  out["message"] = message;
  return out;
}

json ignis_final(const std::string& id, const json& doc) {
  const bool ok = doc.value("success", false);
  json out = base(id, ok ? "done" : "failed");
  out["message"] = ok ? "completed" : "the program did not succeed";
  if (!ok) out["error"] = outcome_error(doc);
  out["stdout"] = doc.value("stdout", "");
  out["stderr"] = doc.value("stderr", "");
  // Output that is not UTF-8 is base64 in the result; say so beside the Ignis fields too.
  for (const char* stream : {"stdout", "stderr"})
    if (doc.value(std::string(stream) + "Encoding", "") == "base64") out[std::string(stream) + "_encoding"] = "base64";
  if (auto m = doc.find("metrics"); m != doc.end() && m->is_object()) {
    out["exec_duration"] = m->value("executionTimeMs", 0.0);
    out["mem_usage"] = static_cast<std::uint64_t>(std::llround(m->value("memoryPeakBytes", 0.0) / 1024.0));
  }
  out["result"] = doc;
  return out;
}

json fit_status(json status, std::size_t max_bytes) {
  if (status.dump().size() <= max_bytes) return status;
  json* result = status.contains("result") && status["result"].is_object() ? &status["result"] : nullptr;
  if (result && result->contains("files")) {
    result->erase("files");
    (*result)["filesTruncated"] = true;
  }
  const auto b64 = [&](const char* stream) {
    return result && result->value(std::string(stream) + "Encoding", "") == "base64";
  };
  bool cut_out = false, cut_err = false;
  for (std::size_t limit = max_bytes / 4; status.dump().size() > max_bytes; limit /= 2) {
    const auto shorten = [&](json& obj, const char* key, bool base64) {
      auto it = obj.find(key);
      if (it == obj.end() || !it->is_string() || it->get_ref<const std::string&>().size() <= limit) return false;
      *it = cut(it->get<std::string>(), limit, base64);
      return true;
    };
    cut_out |= shorten(status, "stdout", b64("stdout"));
    cut_err |= shorten(status, "stderr", b64("stderr"));
    if (result) {
      cut_out |= shorten(*result, "stdout", b64("stdout"));
      cut_out |= shorten(*result, "output", b64("stdout"));
      cut_err |= shorten(*result, "stderr", b64("stderr"));
    }
    if (limit == 0) break;  // what is left is not output: nothing more to cut
  }
  if (result && status.dump().size() > max_bytes) {
    // Not the output: a result made elsewhere (a forged bucket entry) that cannot be sent whole.
    *result = json{{"resultTruncated", true}};
    status["message"] = "the result is too large for a NATS message";
  }
  if (result && cut_out) (*result)["stdoutTruncated"] = true;
  if (result && cut_err) (*result)["stderrTruncated"] = true;
  if (cut_out || cut_err) status["message"] = "output cut to fit the NATS message size limit";
  return status;
}

bool valid_final(const json& s, const std::string& id) {
  if (!s.is_object() || s.value("id", json()) != id) return false;
  const auto status = s.value("status", json());
  if (status != "done" && status != "failed") return false;
  for (const char* text : {"message", "error", "stdout", "stderr"})
    if (!s.contains(text) || !s[text].is_string()) return false;
  for (const char* number : {"exec_duration", "mem_usage"})
    if (!s.contains(number) || !s[number].is_number() || s[number].get<double>() < 0) return false;
  return s.contains("result") && s["result"].is_object();
}

std::string fitted_text(const json& status, std::size_t max_bytes) {
  std::string text = status.dump();
  return text.size() <= max_bytes ? text : fit_status(status, max_bytes).dump();
}

json ignis_failed(const std::string& id, const RequestError& error) {
  json out = base(id, "failed");
  out["message"] = error.code;
  out["error"] = sanitize_utf8(error.message);
  out["result"] = error_body(error);
  return out;
}

}  // namespace ignite::api
