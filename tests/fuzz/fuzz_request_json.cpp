// libFuzzer target: the HTTP API's request decoders (POST /services/:name/execute, /v1/execute
// and /v1/jobs, Piston's /api/v2/execute). Whatever the body, a decoder returns either a request
// within the server's limits or a 400/422 whose error body serializes; it never throws or crashes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "server/piston.hpp"
#include "server/requests.hpp"

namespace {

using ignite::server::HttpError;

constexpr ignite::server::AdhocLimits kLimits{512, 30000, 128, 10000};

void check_error(const HttpError& e) {
  if (e.status != 400 && e.status != 422) std::abort();
  if (e.message.empty()) std::abort();
  (void)ignite::server::error_body(e).dump();  // throws (and so crashes) on invalid UTF-8
  (void)ignite::server::piston_error(e.message).dump();
}

void check_request(const ignite::engine::AdhocRequest& r) {
  if (r.runtime.name.empty() || r.files.empty()) std::abort();
  for (const auto& f : r.files)
    if (f.name.empty()) std::abort();
  if (r.memory_mb < 16 || r.memory_mb > kLimits.max_memory_mb) std::abort();
  if (r.timeout_ms < 100 || r.timeout_ms > kLimits.max_timeout_ms) std::abort();
  if (r.input_json) (void)nlohmann::json::parse(*r.input_json);  // canonical JSON text
  if (r.network) std::abort();  // no request field may turn the network on
}

// What a typical host has installed; versions newest first, as the catalog lists them.
const std::vector<ignite::server::PistonRuntime>& piston_table() {
  static const auto table = [] {
    std::vector<ignite::runtime::Installed> installed;
    for (const char* rt : {"bun@1.3.4", "node@22.1.0", "node@20.20.2", "deno@2.9.6", "quickjs@2021.03.27",
                           "python@3.11.2", "go@1.19.8"}) {
      const std::string s(rt);
      ignite::runtime::Installed i;
      i.name = s.substr(0, s.find('@'));
      i.version = s.substr(s.find('@') + 1);
      installed.push_back(i);
    }
    return ignite::server::piston_runtimes(installed);
  }();
  return table;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);

  auto service = ignite::server::decode_service_execute(body);
  if (auto* e = std::get_if<HttpError>(&service)) {
    check_error(*e);
  } else if (const auto& s = std::get<ignite::server::ServiceExecute>(service); s.input_json) {
    (void)nlohmann::json::parse(*s.input_json);
  }

  auto adhoc = ignite::server::decode_adhoc(body, kLimits);
  if (auto* e = std::get_if<HttpError>(&adhoc)) {
    check_error(*e);
  } else {
    const auto& job = std::get<ignite::server::AdhocJob>(adhoc);
    check_request(job.request);
    if (job.idempotency_key.size() > 200) std::abort();
  }

  auto piston = ignite::server::decode_piston(body, piston_table(), kLimits);
  if (auto* e = std::get_if<HttpError>(&piston)) {
    if (e->status != 400) std::abort();  // Piston answers every bad request with 400
    check_error(*e);
  } else {
    const auto& job = std::get<ignite::server::PistonJob>(piston);
    check_request(job.request);
    if (job.version.empty()) std::abort();
  }
  return 0;
}
