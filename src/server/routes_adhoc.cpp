// Ad-hoc code: POST /v1/execute[?stream=1], POST /v1/jobs, GET /v1/jobs/:id.
#include "api/result_json.hpp"
#include "server/server_state.hpp"

namespace ignite::server {
namespace {

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
  const std::string key = job.idempotency_key.empty() ? "" : req.client + "/" + job.idempotency_key;
  // Security: the job belongs to the key that submitted it; no other key can read it.
  auto submitted = s.jobs->submit(std::move(job.request), req.key_identity, key);
  if (!submitted.unavailable.empty()) return send_error(res, {503, "unavailable", submitted.unavailable, 5});
  if (!submitted.accepted) {
    s.metrics.record_rejection("jobs_full");
    return send_error(res, {429, "queue_full", "too many jobs are waiting", 1});
  }
  res.set_header("Location", "/v1/jobs/" + submitted.id);
  send_json(res, 202, {{"id", submitted.id}, {"status", submitted.status}});
}

bool is_job_id(const std::string& id) {
  return !id.empty() && id.size() <= 64 &&
         id.find_first_not_of("0123456789abcdef") == std::string::npos;
}

}  // namespace

void add_adhoc_routes(ServerState& s) {
  s.router.add("POST", "/v1/execute", Dispatch::blocking,
               [&s](const Request& req, Response& res) { execute(s, req, res); });
  s.router.add("POST", "/v1/jobs", Dispatch::blocking,
               [&s](const Request& req, Response& res) { submit(s, req, res); });
  // Quick: a lookup, and the body is the job's one shared serialized copy.
  s.router.add("GET", "/v1/jobs/:id", Dispatch::quick, [&s](const Request& req, Response& res) {
    auto body = is_job_id(req.param(0)) ? s.jobs->get(req.param(0), req.key_identity) : nullptr;
    if (!body) return send_error(res, not_found("no job with this id (finished jobs are kept for a while)"));
    res.set_shared_body(std::move(body), "application/json");
  });
}

}  // namespace ignite::server
