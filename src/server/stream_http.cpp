// stream_run: a StreamedRun wired to an httplib chunked response (text/event-stream).
#include <memory>

#include "api/result_json.hpp"
#include "server/server_state.hpp"
#include "server/streaming.hpp"

namespace ignite::server {

namespace {
// Silence longer than this gets a heartbeat comment. Writing is the only way to learn that a
// client left (a closed peer still selects writable), so this bounds how long a sandbox keeps
// running for nobody: about two heartbeats.
constexpr std::chrono::milliseconds kHeartbeat{250};
}  // namespace

void stream_run(ServerState& s, httplib::Response& res, Admission::Slot slot, Work work,
                std::function<void(const engine::JobReport&)> on_report) {
  auto held = std::make_shared<Admission::Slot>(std::move(slot));
  auto run = std::make_shared<StreamedRun>(
      [&s, held, work = std::move(work), on_report = std::move(on_report)](
          const sandbox::OutputSink& sink, std::stop_token stop) -> std::string {
        auto report = s.run_admitted(std::move(*held), work, stop, sink);
        if (auto* e = std::get_if<HttpError>(&report)) return sse_event("error", error_body(*e));
        const auto& r = std::get<engine::JobReport>(report);
        if (on_report) on_report(r);
        return sse_event("result", api::result_document(r));
      },
      [&s](std::function<void()> task) { s.run_pool->enqueue(std::move(task)); }, s.stop.get_token());

  res.status = 200;
  res.set_header("Cache-Control", "no-cache");
  res.set_header("X-Accel-Buffering", "no");  // proxies must not buffer the stream
  res.set_chunked_content_provider(
      "text/event-stream",
      [run](std::size_t, httplib::DataSink& sink) {
        auto text = run->next(kHeartbeat);
        if (!text) {
          sink.done();
          return true;
        }
        // false: the client is gone; httplib then calls the releaser with success = false.
        return sink.write(text->data(), text->size());
      },
      [run, &s](bool success) {
        if (!success) s.metrics.record_client_disconnect();
        run->cancel();  // kills the sandbox if it is still running, and waits for it
      });
}

}  // namespace ignite::server
