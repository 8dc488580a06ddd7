// The server's lifecycle (bind, serve, drain) and the middleware every request passes through:
// request id, auth, rate limit, draining, routing, error bodies, access log.
#include "server/server.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <thread>

#include "api/result_json.hpp"
#include "runner/recent_runs.hpp"
#include "server/browser_guard.hpp"
#include "server/http_listener.hpp"
#include "server/server_state.hpp"

namespace ignite::server {

namespace {

// A client-supplied request id is echoed only if it is short and plain (it goes into logs).
bool sane_request_id(const std::string& id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.' || c == ':';
    if (!ok) return false;
  }
  return true;
}

// Security: X-Forwarded-For is client-controlled. It is believed only when the peer is the
// operator's trusted proxy, and then only its last entry (the one that proxy appended).
std::string peer_of(const ServerState& s, const Request& req) {
  if (!s.options.trusted_proxy.empty() && req.remote_addr == s.options.trusted_proxy) {
    const std::string xff = req.header("X-Forwarded-For");
    const auto comma = xff.rfind(',');
    std::string last = comma == std::string::npos ? xff : xff.substr(comma + 1);
    last.erase(0, last.find_first_not_of(' '));
    if (!last.empty()) return last;
  }
  return req.remote_addr;
}

// Every connection holds a descriptor and every running sandbox about ten (pidfd, pipes, epoll,
// seccomp listener, cgroup files). The common soft limit of 1024 would make accept() fail with
// EMFILE well before `max_connections`; the hard limit is the operator's, so raise up to it.
// Sandboxed programs are unaffected: the backend sets their own RLIMIT_NOFILE.
void raise_descriptor_limit(const ServerOptions& o) {
  const rlim_t wanted = o.max_connections + 16 * o.max_running + 256;
  rlimit lim{};
  if (::getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur >= wanted) return;
  lim.rlim_cur = lim.rlim_max == RLIM_INFINITY ? wanted : std::min(wanted, lim.rlim_max);
  ::setrlimit(RLIMIT_NOFILE, &lim);
}

HttpLimits http_limits(const ServerOptions& o) {
  HttpLimits l;
  l.body_limit = o.body_limit;
  l.header_timeout = o.header_timeout;
  l.read_timeout = o.read_timeout;
  l.write_timeout = o.write_timeout;
  l.keep_alive_timeout = o.keep_alive_timeout;
  l.max_connections = o.max_connections;
  l.max_connections_per_peer = o.max_connections_per_peer;
  l.max_idle = o.max_idle_connections;
  l.unlimited_peer = o.trusted_proxy;
  l.io_threads = o.io_threads;
  return l;
}

// The middleware every request passes through, and the routes' dispatch.
class Middleware final : public HttpApp {
 public:
  explicit Middleware(ServerState& s) : s_(s) {}

  std::optional<Response> on_head(Request& req) override {
    req.start = std::chrono::steady_clock::now();
    const std::string given = req.header("X-Request-Id");
    req.id = sane_request_id(given) ? given : random_id().substr(0, 16);
    req.client = peer_of(s_, req);
    if (auto refused = browser_refusal(s_.options.host, req.header("Host"), req.header("Origin"))) {
      s_.metrics.record_rejection("cross_origin");
      return error(req, {403, "forbidden", *refused});
    }
    if (req.path != "/health") {  // probes need neither key nor budget
      if (s_.keys.required() && !is_public(req.method, req.path)) {
        const std::string key = presented_key(req.header("Authorization"), req.header("X-API-Key"));
        if (!s_.keys.accepts(key)) {
          s_.metrics.record_rejection("unauthorized");
          Response res = error(req, {401, "unauthorized", key.empty() ? "an API key is required (Authorization: Bearer <key>)"
                                                                      : "the API key is not valid"});
          res.set_header("WWW-Authenticate", "Bearer");
          return res;
        }
        // One budget per key, wherever its requests come from; jobs belong to it.
        req.client = req.key_identity = key_identity(key);
      }
      int retry_after = 0;
      if (!s_.rate_limiter.allow(req.client, std::chrono::steady_clock::now(), retry_after)) {
        s_.metrics.record_rejection("rate_limited");
        return error(req, {429, "rate_limited", "too many requests from this client", retry_after});
      }
      if (s_.draining() && req.method == "POST") {
        s_.metrics.record_rejection("draining");
        return error(req, {503, "draining", "the server is shutting down", 5});
      }
    }
    Router::Match match = s_.router.match(req.method, req.path);
    if (!match.route) {
      if (match.status == 400) return error(req, bad_request("malformed %-escape in the path"));
      Response res = error(req, for_status(match.status));
      if (match.status == 405) res.set_header("Allow", match.allow);
      return res;
    }
    req.params = std::move(match.params);
    return std::nullopt;
  }

  void on_request(Request req, Respond respond) override {
    // on_head found the route; the table does not change while serving.
    const Router::Route* route = s_.router.match(req.method, req.path).route;
    if (route == nullptr) return respond(error(req, not_found("no such route")));
    if (route->dispatch == Dispatch::quick) return respond(handle(*route, req));
    s_.handler_pool->enqueue([this, route, req = std::move(req), respond = std::move(respond)] {
      respond(handle(*route, req));
    });
  }

  Response on_transport_error(Request& req, const HttpError& e) override {
    if (req.id.empty()) req.id = random_id().substr(0, 16);
    if (req.client.empty()) req.client = req.remote_addr;
    return error(req, e);
  }

  // One JSON object per line on stderr, written with one write(2) so lines never interleave.
  void on_sent(const Request& req, const Response& res) override {
    s_.metrics.record_response(res.status);
    const double ms = req.start == std::chrono::steady_clock::time_point{}
                          ? 0
                          : std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - req.start).count();
    nlohmann::json line = {
        {"time", runner::utc_timestamp()},         {"requestId", req.id},   {"method", api::sanitize_utf8(req.method)},
        {"path", api::sanitize_utf8(req.path)}, {"status", res.status},
        {"durationMs", std::round(ms * 10) / 10}, {"remote", req.remote_addr},
        {"client", req.client},      {"bytes", res.body_size()},
    };
    std::string text = line.dump() + "\n";
    [[maybe_unused]] auto n = ::write(STDERR_FILENO, text.data(), text.size());
  }

  void on_connection_refused() override { s_.metrics.record_rejection("too_many_connections"); }

 private:
  Response error(const Request& req, const HttpError& e) {
    Response res;
    send_error(res, e);
    res.set_header("X-Request-Id", req.id);
    return res;
  }

  Response handle(const Router::Route& route, const Request& req) {
    Response res;
    try {
      route.handler(req, res);
    } catch (const std::exception& e) {
      s_.metrics.record_error("internal");
      res = Response{};
      send_error(res, {500, "internal", e.what()});
    }
    res.set_header("X-Request-Id", req.id);
    return res;
  }

  ServerState& s_;
};

}  // namespace

struct Server::State : ServerState {
  using ServerState::ServerState;
  std::unique_ptr<Middleware> middleware;
  std::unique_ptr<HttpListener> listener;  // last: destroyed first, while the rest still exists
};

Server::Server(ServerOptions options, engine::Engine& engine) {
  if (options.max_running == ServerOptions::kAuto || options.max_running == 0)
    options.max_running = std::max(1u, std::thread::hardware_concurrency());
  if (options.max_queued == ServerOptions::kAuto) options.max_queued = 4 * options.max_running;
  state_ = std::make_unique<State>(std::move(options), engine);
  State& s = *state_;
  add_meta_routes(s);
  add_service_routes(s);
  add_adhoc_routes(s);
  add_piston_routes(s);
  add_mcp_routes(s);
  add_ui_routes(s);
  s.middleware = std::make_unique<Middleware>(s);
  s.listener = std::make_unique<HttpListener>(http_limits(s.options), *s.middleware);
}

Server::~Server() {
  stop();
  // Work first (it may still respond to connections), then the connections, then the rest.
  state_->jobs->shutdown();
  state_->handler_pool->shutdown();
  state_->run_pool->shutdown();
  state_->listener.reset();
}

Result<int> Server::bind() {
  auto& s = *state_;
  raise_descriptor_limit(s.options);
  return s.listener->bind(s.options.host, s.options.port);
}

void Server::serve() { state_->listener->run(); }

void Server::drain(std::chrono::milliseconds grace) {
  auto& s = *state_;
  s.drain();  // queued requests get 503 now; running ones go on
  const auto deadline = std::chrono::steady_clock::now() + grace;
  if (!s.admission.wait_idle(deadline)) {
    // Grace is over: cancelling kills the sandboxes; each run then returns promptly.
    s.cancel_all();
    s.admission.wait_idle(std::chrono::steady_clock::now() + std::chrono::seconds(10));
  }
  s.jobs->shutdown();
  // The last responses (and the ends of event streams) still have to be written.
  s.listener->shutdown(s.options.write_timeout);
}

void Server::stop() {
  state_->cancel_all();
  state_->listener->stop();
}

}  // namespace ignite::server
