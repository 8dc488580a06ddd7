// Server-Sent Events for a run: output chunks become "stdout"/"stderr" events as the program
// writes them, then one "result" (or "error") event.
#pragma once
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "sandbox/backend.hpp"
#include "server/http_types.hpp"

namespace ignite::server {

// "event: <name>\ndata: <json on one line>\n\n".
std::string sse_event(std::string_view name, const nlohmann::json& data);

// Turns output chunks into "stdout"/"stderr" events. Chunks can split a UTF-8 character; the
// incomplete tail is held back until the next chunk, so text events carry whole characters.
// Bytes that are not UTF-8 at all go as {"base64": ...}.
class OutputEvents {
 public:
  std::string on_chunk(sandbox::Stream stream, std::string_view chunk);
  std::string flush();  // whatever was held back, at the end of the run

 private:
  std::string encode(sandbox::Stream stream, std::string text);
  std::string held_[2];
};

// A run whose output is sent as it comes: the run happens on a pool thread and pushes events;
// the connection takes them whenever it is woken (never blocking an I/O thread), and writes a
// heartbeat during silence so that a client that left is noticed (the write fails) and the run
// is cancelled.
class StreamedRun final : public EventStream {
 public:
  // Runs the job with a sink that feeds the stream; returns the final event (result or error).
  using Body = std::function<std::string(const sandbox::OutputSink& sink, std::stop_token stop)>;

  // Runs a task on some thread (a pre-created pool: see runner/fixed_pool.hpp for why not a new one).
  using Post = std::function<void(std::function<void()>)>;

  // Starts the run at once. `server_stop` (the server giving up on in-flight work) cancels too;
  // `on_abandon` is called when the client leaves before the end. The run's task holds the
  // object until the run has returned, so nothing here ever waits for it.
  static std::shared_ptr<StreamedRun> launch(Body body, const Post& post, std::stop_token server_stop,
                                             std::function<void()> on_abandon = {});
  StreamedRun(const StreamedRun&) = delete;
  StreamedRun& operator=(const StreamedRun&) = delete;

  void start(std::function<void()> wake) override;
  std::optional<std::string> take() override;
  std::string heartbeat() const override { return ": ping\n\n"; }  // a comment: clients ignore it
  // The client is gone: the sandbox is killed; the run's task ends on its own.
  void abandon() override;

 private:
  StreamedRun(std::stop_token server_stop, std::function<void()> on_abandon);
  void push(std::string text, bool last);

  std::mutex mu_;
  std::deque<std::string> events_;
  bool finished_ = false;  // the final event is in events_
  std::function<void()> wake_;
  std::function<void()> on_abandon_;
  std::stop_source stop_;
  std::stop_callback<std::function<void()>> on_server_stop_;
};

}  // namespace ignite::server
