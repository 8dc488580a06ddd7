// Piston compatibility (GET /api/v2/runtimes, POST /api/v2/execute): Piston's request and
// response shapes over our runtimes, so existing Piston clients work unchanged.
#pragma once
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/job.hpp"
#include "runtime/catalog.hpp"
#include "server/requests.hpp"

namespace ignite::server {

// One Piston language entry backed by one installed runtime.
struct PistonRuntime {
  std::string language;  // "python", "javascript", "typescript", "go", or the runtime's name
  std::string version;   // the runtime's version
  std::string runtime;   // ours: "bun", "node", ...
  std::string extension;  // the entry file's extension for this language: ".py"
  std::vector<std::string> aliases;
};

// Piston entries for what is installed: one per (runtime, language it runs), derived from the
// runtime descriptors' file extensions, so new runtimes appear without code changes here.
std::vector<PistonRuntime> piston_runtimes(const std::vector<runtime::Installed>& installed);

// [{"language","version","aliases","runtime"}], as Piston's GET /api/v2/runtimes.
nlohmann::json piston_runtimes_json(const std::vector<PistonRuntime>& runtimes);

struct PistonJob {
  engine::AdhocRequest request;
  std::string language;  // as the client asked
  std::string version;   // resolved
};

// POST /api/v2/execute: {"language","version","files":[{"name"?,"content"}],"stdin","args",
// "run_timeout","run_memory_limit",...}. Errors are 400, as Piston answers them.
Decoded<PistonJob> decode_piston(std::string_view body, const std::vector<PistonRuntime>& runtimes,
                                 const AdhocLimits& limits);

// {"language","version","run":{"stdout","stderr","output","code","signal",...}[,"compile"]}.
// `combined` is stdout and stderr interleaved as the program wrote them.
nlohmann::json piston_result(const PistonJob& job, const engine::JobReport& report,
                             const std::string& combined);

// Piston's error body: {"message": "..."}.
nlohmann::json piston_error(const std::string& message);

}  // namespace ignite::server
