// Ad-hoc code: POST /v1/execute[?stream=1], POST /v1/jobs, GET /v1/jobs/:id.
#include "api/result_json.hpp"
#include "server/server_state.hpp"

namespace ignite::server {
namespace {

using httplib::Request;
using httplib::Response;

void execute(ServerState& s, const Request& req, Response& res) {
  auto decoded = decode_adhoc(req.body, s.limits);
  if (auto* e = std::get_if<HttpError>(&decoded)) return send_error(res, *e);
  engine::AdhocRequest request = std::move(std::get<AdhocJob>(decoded).request);
  Work work = [&s, request = std::move(request)](std::stop_token stop, const sandbox::OutputSink& sink) {
    return s.engine.execute_adhoc(request, stop, sink);
  };
  if (wants_stream(req)) {
    auto slot = s.admit();
    if (auto* e = std::get_if<HttpError>(&slot)) return send_error(res, *e);
    return stream_run(s, res, std::move(std::get<Admission::Slot>(slot)), std::move(work));
  }
  auto report = s.run(work);
  if (auto* e = std::get_if<HttpError>(&report)) return send_error(res, *e);
  send_json(res, 200, api::result_document(std::get<engine::JobReport>(report)));
}

void submit(ServerState& s, const Request& req, Response& res) {
  auto decoded = decode_adhoc(req.body, s.limits);
  if (auto* e = std::get_if<HttpError>(&decoded)) return send_error(res, *e);
  AdhocJob& job = std::get<AdhocJob>(decoded);
  // Idempotency keys are per client: one tenant's key never returns another tenant's job.
  const std::string key =
      job.idempotency_key.empty() ? "" : current_request().client + "/" + job.idempotency_key;
  auto submitted = s.jobs->submit(std::move(job.request), key);
  if (!submitted.accepted) {
    s.metrics.record_rejection("jobs_full");
    return send_error(res, {429, "queue_full", "too many jobs are waiting", 1});
  }
  res.set_header("Location", "/v1/jobs/" + submitted.id);
  send_json(res, 202, {{"id", submitted.id}, {"status", submitted.status}});
}

}  // namespace

void add_adhoc_routes(ServerState& s) {
  s.http.Post("/v1/execute", [&s](const Request& req, Response& res) { execute(s, req, res); });
  s.http.Post("/v1/jobs", [&s](const Request& req, Response& res) { submit(s, req, res); });
  s.http.Get(R"(/v1/jobs/([0-9a-f]{1,64}))", [&s](const Request& req, Response& res) {
    auto job = s.jobs->get(req.matches[1].str());
    if (!job) return send_error(res, not_found("no job with this id (finished jobs are kept for a while)"));
    send_json(res, 200, *job);
  });
}

}  // namespace ignite::server
