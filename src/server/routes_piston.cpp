// Piston compatibility: GET /api/v2/runtimes, POST /api/v2/execute (errors as Piston's
// {"message"} with 400; capacity and auth errors keep our own shape and status).
#include <mutex>

#include "server/server_state.hpp"

namespace ignite::server {
namespace {

void execute(ServerState& s, const Request& req, Response& res) {
  auto decoded = decode_piston(req.body, s.piston_runtimes(), s.limits);
  if (auto* e = std::get_if<HttpError>(&decoded)) return send_json(res, 400, piston_error(e->message));
  const PistonJob& job = std::get<PistonJob>(decoded);
  // Piston's run.output is stdout and stderr interleaved as written: collect it from the live
  // chunks (the sink is called from the run's thread only, but guard it anyway).
  std::mutex mu;
  std::string combined;
  sandbox::OutputSink sink = [&](sandbox::Stream, std::string_view chunk) {
    std::lock_guard lock(mu);
    combined.append(chunk);
  };
  auto report = s.run(
      [&](std::stop_token stop, const sandbox::OutputSink& out) {
        return s.engine.execute_adhoc(job.request, stop, out);
      },
      sink);
  if (auto* e = std::get_if<HttpError>(&report)) {
    if (e->status == 422) return send_json(res, 400, piston_error(e->message));
    return send_error(res, *e);
  }
  send_json(res, 200, piston_result(job, std::get<engine::JobReport>(report), combined));
}

}  // namespace

void add_piston_routes(ServerState& s) {
  s.router.add("GET", "/api/v2/runtimes", Dispatch::blocking, [&s](const Request&, Response& res) {
    send_json(res, 200, piston_runtimes_json(s.piston_runtimes()));
  });
  s.router.add("POST", "/api/v2/execute", Dispatch::blocking,
               [&s](const Request& req, Response& res) { execute(s, req, res); });
}

}  // namespace ignite::server
