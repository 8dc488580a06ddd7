// stream_run: a StreamedRun as the body of a response (text/event-stream); the transport writes
// its events as they come, with heartbeats, and abandons it when the client leaves.
#include <memory>

#include "api/result_json.hpp"
#include "server/server_state.hpp"
#include "server/streaming.hpp"

namespace ignite::server {

void stream_run(ServerState& s, Response& res, Admission::Slot slot, Work work,
                std::function<void(const engine::JobReport&)> on_report) {
  auto held = std::make_shared<Admission::Slot>(std::move(slot));
  res.status = 200;
  res.content_type = "text/event-stream";
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");  // proxies must not buffer the stream
  res.stream = StreamedRun::launch(
      [&s, held, work = std::move(work), on_report = std::move(on_report)](
          const sandbox::OutputSink& sink, std::stop_token stop) -> std::string {
        auto report = s.run_admitted(std::move(*held), work, stop, sink);
        if (auto* e = std::get_if<HttpError>(&report)) return sse_event("error", error_body(*e));
        const auto& r = std::get<engine::JobReport>(report);
        if (on_report) on_report(r);
        return sse_event("result", api::result_document(r));
      },
      [&s](std::function<void()> task) { s.run_pool->enqueue(std::move(task)); }, s.stop_token(),
      [&s] { s.metrics.record_client_disconnect(); });
}

}  // namespace ignite::server
