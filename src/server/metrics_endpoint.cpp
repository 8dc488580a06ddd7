#include "server/metrics_endpoint.hpp"

#include <thread>

#include "server/http_listener.hpp"

namespace ignite::server {
namespace {

class MetricsApp final : public HttpApp {
 public:
  explicit MetricsApp(std::function<std::string()> render) : render_(std::move(render)) {}

  std::optional<Response> on_head(Request& req) override {
    Response res;
    if (req.method != "GET") {
      res.status = 405;
      res.set_body("method not allowed\n", "text/plain");
    } else if (req.path == "/metrics") {
      res.set_body(render_(), "text/plain; version=0.0.4");
    } else if (req.path == "/health") {
      res.set_body("{\"status\":\"ok\"}\n", "application/json");
    } else {
      res.status = 404;
      res.set_body("not found\n", "text/plain");
    }
    res.close = true;
    return res;  // answered from the head: no body is ever read
  }
  void on_request(Request, Respond respond) override {
    Response res;  // unreachable: on_head answers every request
    res.status = 404;
    respond(std::move(res));
  }
  Response on_transport_error(Request&, const HttpError& error) override {
    Response res;
    res.status = error.status;
    res.close = true;
    return res;
  }
  void on_sent(const Request&, const Response&) override {}
  void on_connection_refused() override {}

 private:
  std::function<std::string()> render_;
};

HttpLimits metrics_limits() {
  HttpLimits l;
  l.body_limit = 0;
  l.max_connections_per_peer = 4;
  l.max_idle = 0;
  l.io_threads = 1;
  // A scrape is one small request: whoever holds a connection open without sending one is
  // dropped fast, so a few such connections cannot lock scrapers out.
  l.header_timeout = std::chrono::seconds(2);
  l.read_timeout = std::chrono::seconds(2);
  l.write_timeout = std::chrono::seconds(5);
  l.max_connections = 64;
  return l;
}

}  // namespace

struct MetricsEndpoint::State {
  explicit State(std::function<std::string()> render) : app(std::move(render)), listener(metrics_limits(), app) {}
  MetricsApp app;
  HttpListener listener;
  std::thread thread;
};

MetricsEndpoint::MetricsEndpoint(std::function<std::string()> render)
    : state_(std::make_unique<State>(std::move(render))) {}

MetricsEndpoint::~MetricsEndpoint() {
  state_->listener.stop();
  if (state_->thread.joinable()) state_->thread.join();
}

Result<int> MetricsEndpoint::start(const std::string& host, int port) {
  auto bound = state_->listener.bind(host, port);
  if (!bound) return bound;
  state_->thread = std::thread([this] { state_->listener.run(); });
  return bound;
}

}  // namespace ignite::server
