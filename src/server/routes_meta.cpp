// GET /health, /metrics, /openapi.json, /v1/runtimes.
#include <cmath>

#include "server/server_state.hpp"

namespace ignite::server {

void add_meta_routes(ServerState& s) {
  s.http.Get("/health", [&s](const httplib::Request&, httplib::Response& res) {
    // Cheap on purpose (no locks beyond two counters): load balancers probe it under load.
    const Gauges g = s.gauges();
    nlohmann::json body = {{"status", g.draining ? "draining" : "ok"},
                           {"version", IGNITE_VERSION},
                           {"uptimeS", std::round(g.uptime_s * 10) / 10},
                           {"inFlight", g.in_flight},
                           {"queued", g.queue_depth}};
    send_json(res, g.draining ? 503 : 200, body);
  });

  s.http.Get("/metrics", [&s](const httplib::Request&, httplib::Response& res) {
    res.status = 200;
    res.set_content(s.metrics.render(s.gauges()), "text/plain; version=0.0.4; charset=utf-8");
  });

  s.http.Get("/openapi.json", [](const httplib::Request&, httplib::Response& res) {
    send_json(res, 200, openapi_document());
  });

  s.http.Get("/v1/runtimes", [&s](const httplib::Request&, httplib::Response& res) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& rt : s.installed_runtimes()) {
      list.push_back({{"name", rt.name}, {"version", rt.version}, {"label", rt.label()}});
    }
    send_json(res, 200, {{"runtimes", std::move(list)}});
  });
}

}  // namespace ignite::server
