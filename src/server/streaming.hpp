// Server-Sent Events for a run: the run happens on its own thread and pushes output events;
// the HTTP connection thread pulls them and writes them, with heartbeats in between so that a
// client that left is noticed (the write fails) and the run is cancelled.
#pragma once
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "sandbox/backend.hpp"

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

class StreamedRun {
 public:
  // Runs the job with a sink that feeds the stream; returns the final event (result or error).
  using Body = std::function<std::string(const sandbox::OutputSink& sink, std::stop_token stop)>;

  // Runs a task on some thread (a pre-created pool: see http_pool.hpp for why not a new one).
  using Post = std::function<void(std::function<void()>)>;

  // Starts the run at once. `server_stop` (the server giving up on in-flight work) cancels too.
  StreamedRun(Body body, const Post& post, std::stop_token server_stop);
  ~StreamedRun();  // cancels (if still running) and waits for the run to end
  StreamedRun(const StreamedRun&) = delete;
  StreamedRun& operator=(const StreamedRun&) = delete;

  // The next text to send: queued events, a heartbeat comment after `heartbeat` of silence, or
  // nullopt once the final event has been handed out.
  std::optional<std::string> next(std::chrono::milliseconds heartbeat);

  // The client is gone: kill the sandbox and wait for the run to finish.
  void cancel();

 private:
  void push(std::string text, bool last);

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> events_;
  bool finished_ = false;  // the final event is in events_
  bool body_done_ = false;  // the run's task has returned: nothing touches *this any more
  std::stop_source stop_;
  std::stop_callback<std::function<void()>> on_server_stop_;
};

}  // namespace ignite::server
