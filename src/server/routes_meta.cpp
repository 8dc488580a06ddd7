// GET /health, /metrics, /v1/pools, /v1/runs, /openapi.json, /v1/runtimes.
#include <cmath>
#include <memory>

#include "api/result_json.hpp"
#include "server/pool_status.hpp"
#include "server/server_state.hpp"

namespace ignite::server {

void add_meta_routes(ServerState& s) {
  s.router.add("GET", "/health", Dispatch::quick, [&s](const Request&, Response& res) {
    // Cheap on purpose (no locks beyond two counters): load balancers probe it under load.
    const Gauges g = s.gauges();
    nlohmann::json body = {{"status", g.draining ? "draining" : "ok"},
                           {"version", IGNITE_VERSION},
                           {"uptimeS", std::round(g.uptime_s * 10) / 10},
                           {"inFlight", g.in_flight},
                           {"queued", g.queue_depth}};
    send_json(res, g.draining ? 503 : 200, body);
  });

  s.router.add("GET", "/metrics", Dispatch::quick, [&s](const Request&, Response& res) {
    res.status = 200;
    std::string text = s.metrics.render(s.gauges());
    if (const auto* pools = s.engine.pools()) text += render_pool_metrics(pools->status());
    res.set_body(std::move(text), "text/plain; version=0.0.4; charset=utf-8");
  });

  s.router.add("GET", "/v1/pools", Dispatch::quick, [&s](const Request&, Response& res) {
    const auto* pools = s.engine.pools();
    send_json(res, 200, pools ? pools_json(pools->status()) : nlohmann::json{{"pools", nlohmann::json::array()}});
  });

  // The dashboard's table: how recent runs ended, never their input or output (recent_runs.hpp).
  s.router.add("GET", "/v1/runs", Dispatch::quick, [&s](const Request&, Response& res) {
    nlohmann::json runs = nlohmann::json::array();
    for (const runner::RunSummary& r : s.recent_runs.newest_first())
      runs.push_back({{"id", r.seq},
                      {"time", r.finished_at},
                      {"service", api::sanitize_utf8(r.service)},
                      {"runtime", r.runtime},
                      {"isolation", r.isolation},
                      {"status", r.status},
                      {"wallMs", std::round(r.wall_ms * 10) / 10},
                      {"cpuMs", std::round(r.cpu_ms * 10) / 10},
                      {"memoryPeakBytes", r.peak_memory_bytes},
                      {"coldStart", r.cold_start}});
    send_json(res, 200, {{"runs", std::move(runs)}});
  });

  // Serialized once: the document never changes while the server runs.
  auto openapi = std::make_shared<const std::string>(openapi_document().dump() + "\n");
  s.router.add("GET", "/openapi.json", Dispatch::quick, [openapi](const Request&, Response& res) {
    res.set_shared_body(openapi, "application/json");
  });

  // Blocking: listing walks the runtimes' directories (cached for a few seconds).
  s.router.add("GET", "/v1/runtimes", Dispatch::blocking, [&s](const Request&, Response& res) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& rt : s.installed_runtimes()) {
      list.push_back({{"name", rt.name}, {"version", rt.version}, {"label", rt.label()}});
    }
    send_json(res, 200, {{"runtimes", std::move(list)}});
  });
}

}  // namespace ignite::server
