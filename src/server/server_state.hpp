// The server's shared state and the helpers the route files use (private to src/server).
#pragma once
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <stop_token>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/engine.hpp"
#include "server/requests.hpp"
#include "runner/runner.hpp"
#include "server/auth.hpp"
#include "server/http_error.hpp"
#include "runner/fixed_pool.hpp"
#include "server/http_types.hpp"
#include "server/options.hpp"
#include "server/piston.hpp"
#include "server/rate_limiter.hpp"
#include "server/router.hpp"
#include "runner/service_index.hpp"

namespace ignite::server {

using api::AdhocLimits;
using runner::Admission;
using runner::FixedPool;
using runner::Gauges;
using runner::JobQueue;
using runner::Metrics;
using runner::random_id;
using runner::service_summary;
using runner::ServiceIndex;
using runner::Work;

// The HTTP transport's state over the transport-neutral runner (admission, jobs, metrics,
// cancellation: runner/runner.hpp).
struct ServerState : runner::Runner {
  ServerState(ServerOptions opts, engine::Engine& eng);

  ServerOptions options;
  ApiKeys keys;
  RateLimiter rate_limiter;
  ServiceIndex services;
  Router router;
  // Blocking route handlers: enough threads for every running and every queued execution, and
  // spares for the other blocking routes, so a full queue never holds up /services.
  std::unique_ptr<FixedPool> handler_pool;
  std::unique_ptr<FixedPool> run_pool;  // streamed runs (bounded by the execution slots)

 private:
  std::mutex catalog_mu_;
  std::vector<runtime::Installed> catalog_cache_;
  std::chrono::steady_clock::time_point catalog_read_{};

 public:

  // The catalog, re-read at most every few seconds: listing walks the runtimes' trees on disk.
  std::vector<runtime::Installed> installed_runtimes();
  std::vector<PistonRuntime> piston_runtimes() { return server::piston_runtimes(installed_runtimes()); }
};

// Response helpers: JSON bodies, and errors as {"error":{code,message}} (+ Retry-After).
void send_json(Response& res, int status, const nlohmann::json& body);
void send_error(Response& res, const HttpError& error);

// The routes, one group per file.
void add_meta_routes(ServerState& s);      // /health /metrics /openapi.json /v1/runtimes
void add_service_routes(ServerState& s);   // /services...
void add_adhoc_routes(ServerState& s);     // /v1/execute /v1/jobs
void add_piston_routes(ServerState& s);    // /api/v2/...
void add_mcp_routes(ServerState& s);       // /mcp (MCP Streamable HTTP)
void add_ui_routes(ServerState& s);        // / /ui/... (the web UI's files)

// Requests served without an API key: GET of the web UI's files (no data in them).
bool is_public(std::string_view method, std::string_view path);

// Streams a run as Server-Sent Events: output chunks, then "result" (or "error").
void stream_run(ServerState& s, Response& res, Admission::Slot slot, Work work,
                std::function<void(const engine::JobReport&)> on_report = {});

// True for ?stream=1 / ?stream=true.
bool wants_stream(const Request& req);

// The OpenAPI 3 description of every route.
const nlohmann::json& openapi_document();

}  // namespace ignite::server
