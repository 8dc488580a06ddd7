// The service routes: GET /services, GET /services/:name, GET /services/:name/preflight,
// POST /services/:name/execute[?stream=1].
#include "api/result_json.hpp"
#include "server/server_state.hpp"

namespace ignite::server {
namespace {

// The service named in the URL, or the error already sent.
std::optional<config::ServiceConfig> lookup(ServerState& s, const Request& req, Response& res) {
  auto found = s.services.find(req.param(0));
  if (auto* e = std::get_if<HttpError>(&found)) {
    send_error(res, *e);
    return std::nullopt;
  }
  return std::move(std::get<config::ServiceConfig>(found));
}

void execute(ServerState& s, const Request& req, Response& res) {
  auto service = lookup(s, req, res);
  if (!service) return;
  auto decoded = decode_service_execute(req.body);
  if (auto* e = std::get_if<HttpError>(&decoded)) return send_error(res, *e);
  const auto& body = std::get<ServiceExecute>(decoded);
  engine::JobRequest job{*service, body.input_json, body.skip_preflight, "native"};
  Work work = [&s, job](std::stop_token stop, const sandbox::OutputSink& sink) {
    return s.engine.execute(job, stop, sink);
  };
  auto remember = [&s, name = service->name](const engine::JobReport& r) {
    s.services.record_run(name, r);
  };
  if (wants_stream(req)) {
    auto slot = s.admit();
    if (auto* e = std::get_if<HttpError>(&slot)) return send_error(res, *e);
    return stream_run(s, res, std::move(std::get<Admission::Slot>(slot)), std::move(work), remember);
  }
  auto report = s.run(work);
  if (auto* e = std::get_if<HttpError>(&report)) return send_error(res, *e);
  remember(std::get<engine::JobReport>(report));
  send_json(res, 200, api::result_document(std::get<engine::JobReport>(report)));
}

}  // namespace

void add_service_routes(ServerState& s) {
  // All blocking: they read service directories (when the index finds something changed).
  s.router.add("GET", "/services", Dispatch::blocking, [&s](const Request&, Response& res) {
    send_json(res, 200, s.services.listing());
  });

  // A capture is one whole segment ("%2F" inside it stays in it); find() validates the name.
  s.router.add("GET", "/services/:name", Dispatch::blocking, [&s](const Request& req, Response& res) {
    auto service = lookup(s, req, res);
    if (!service) return;
    nlohmann::json body = service_summary(*service);
    body["cpuLimit"] = service->cpu_limit;
    body["network"] = service->network;
    body["dependencies"] = service->dependencies;
    // Security: env values may be secrets expanded from the server's environment: names only.
    nlohmann::json env_names = nlohmann::json::array();
    for (const auto& kv : service->env) env_names.push_back(kv.first);
    body["env"] = std::move(env_names);
    body["lastRun"] = s.services.last_run(service->name);
    send_json(res, 200, body);
  });

  s.router.add("GET", "/services/:name/preflight", Dispatch::blocking, [&s](const Request& req, Response& res) {
    auto service = lookup(s, req, res);
    if (!service) return;
    auto report = engine::preflight_service(s.engine.catalog(), *service);
    if (!report) return send_error(res, from_engine_error(report.error()));
    send_json(res, 200, {{"serviceName", service->name}, {"preflight", api::preflight_json(*report)}});
  });

  s.router.add("POST", "/services/:name/execute", Dispatch::blocking,
               [&s](const Request& req, Response& res) { execute(s, req, res); });
}

}  // namespace ignite::server
