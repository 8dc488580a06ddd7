#include "server/streaming.hpp"

#include "api/result_json.hpp"

namespace ignite::server {

std::string sse_event(std::string_view name, const nlohmann::json& data) {
  std::string out = "event: ";
  out += name;
  out += "\ndata: ";
  out += data.dump();  // one line: dump() escapes newlines inside strings
  out += "\n\n";
  return out;
}

namespace {

// How many bytes at the end of `text` start a UTF-8 sequence that is not complete yet.
std::size_t incomplete_tail(std::string_view text) {
  const std::size_t n = text.size();
  for (std::size_t back = 1; back <= 3 && back <= n; ++back) {
    const auto b = static_cast<unsigned char>(text[n - back]);
    if ((b & 0xC0U) == 0x80U) continue;  // a continuation byte: look further back
    std::size_t len = 1;
    if ((b & 0xE0U) == 0xC0U) len = 2;
    else if ((b & 0xF0U) == 0xE0U) len = 3;
    else if ((b & 0xF8U) == 0xF0U) len = 4;
    return len > back ? back : 0;
  }
  return 0;
}

}  // namespace

std::string OutputEvents::encode(sandbox::Stream stream, std::string text) {
  if (text.empty()) return {};
  const char* name = stream == sandbox::Stream::out ? "stdout" : "stderr";
  if (api::is_valid_utf8(text)) return sse_event(name, {{"text", std::move(text)}});
  return sse_event(name, {{"base64", api::base64_encode(text)}});
}

std::string OutputEvents::on_chunk(sandbox::Stream stream, std::string_view chunk) {
  std::string& held = held_[stream == sandbox::Stream::out ? 0 : 1];
  std::string text = std::move(held);
  text.append(chunk);
  const std::size_t tail = incomplete_tail(text);
  held.assign(text, text.size() - tail, tail);
  text.resize(text.size() - tail);
  return encode(stream, std::move(text));
}

std::string OutputEvents::flush() {
  return encode(sandbox::Stream::out, std::move(held_[0])) +
         encode(sandbox::Stream::err, std::move(held_[1]));
}

StreamedRun::StreamedRun(Body body, const Post& post, std::stop_token server_stop)
    : on_server_stop_(std::move(server_stop), std::function<void()>([this] { stop_.request_stop(); })) {
  post([this, body = std::move(body)] {
    // The events object lives on the run's thread: the sink is only called from here.
    OutputEvents events;
    sandbox::OutputSink sink = [&](sandbox::Stream s, std::string_view chunk) {
      std::string text = events.on_chunk(s, chunk);
      if (!text.empty()) push(std::move(text), false);
    };
    std::string final_event = body(sink, stop_.get_token());
    push(events.flush() + final_event, true);
    std::lock_guard lock(mu_);
    body_done_ = true;
    cv_.notify_all();  // notify under the lock: *this may be destroyed right after
  });
}

StreamedRun::~StreamedRun() { cancel(); }

void StreamedRun::push(std::string text, bool last) {
  {
    std::lock_guard lock(mu_);
    events_.push_back(std::move(text));
    if (last) finished_ = true;
  }
  cv_.notify_all();
}

std::optional<std::string> StreamedRun::next(std::chrono::milliseconds heartbeat) {
  std::unique_lock lock(mu_);
  if (events_.empty() && finished_) return std::nullopt;
  if (!cv_.wait_for(lock, heartbeat, [&] { return !events_.empty(); }))
    return std::string(": ping\n\n");  // a comment line: SSE clients ignore it
  std::string out;
  while (!events_.empty()) {
    out += std::move(events_.front());
    events_.pop_front();
  }
  return out;
}

void StreamedRun::cancel() {
  stop_.request_stop();
  std::unique_lock lock(mu_);
  cv_.wait(lock, [&] { return body_done_; });
}

}  // namespace ignite::server
