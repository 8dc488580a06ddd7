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

StreamedRun::StreamedRun(std::stop_token server_stop, std::function<void()> on_abandon)
    : on_abandon_(std::move(on_abandon)),
      on_server_stop_(std::move(server_stop), std::function<void()>([this] { stop_.request_stop(); })) {}

std::shared_ptr<StreamedRun> StreamedRun::launch(Body body, const Post& post, std::stop_token server_stop,
                                                 std::function<void()> on_abandon) {
  std::shared_ptr<StreamedRun> run(new StreamedRun(std::move(server_stop), std::move(on_abandon)));
  post([run, body = std::move(body)] {
    // The events object lives on the run's thread: the sink is only called from here.
    OutputEvents events;
    sandbox::OutputSink sink = [&](sandbox::Stream s, std::string_view chunk) {
      std::string text = events.on_chunk(s, chunk);
      if (!text.empty()) run->push(std::move(text), false);
    };
    std::string final_event = body(sink, run->stop_.get_token());
    run->push(events.flush() + final_event, true);
  });
  return run;
}

void StreamedRun::push(std::string text, bool last) {
  std::function<void()> wake;
  {
    std::lock_guard lock(mu_);
    events_.push_back(std::move(text));
    if (last) finished_ = true;
    wake = wake_;
  }
  if (wake) wake();  // outside the lock: it posts to the connection, which then calls take()
}

void StreamedRun::start(std::function<void()> wake) {
  bool ready = false;
  {
    std::lock_guard lock(mu_);
    wake_ = wake;
    ready = !events_.empty();
  }
  if (ready) wake();
}

std::optional<std::string> StreamedRun::take() {
  std::lock_guard lock(mu_);
  if (events_.empty()) return finished_ ? std::nullopt : std::optional<std::string>(std::string());
  std::string out;
  while (!events_.empty()) {
    out += std::move(events_.front());
    events_.pop_front();
  }
  return out;
}

void StreamedRun::abandon() {
  {
    std::lock_guard lock(mu_);
    wake_ = nullptr;  // nobody is listening any more
  }
  if (on_abandon_) on_abandon_();
  stop_.request_stop();
}

}  // namespace ignite::server
