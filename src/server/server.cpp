// The server's lifecycle (bind, serve, drain) and the middleware every request passes through:
// request id, auth, rate limit, error bodies, access log.
#include "server/server.hpp"

#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <thread>

#include "api/result_json.hpp"
#include "server/http_pool.hpp"
#include "server/server_state.hpp"

namespace ignite::server {

struct Server::State : ServerState {
  using ServerState::ServerState;
};

namespace {

using httplib::Request;
using httplib::Response;
using Handled = httplib::Server::HandlerResponse;

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
    const std::string xff = req.get_header_value("X-Forwarded-For");
    const auto comma = xff.rfind(',');
    std::string last = comma == std::string::npos ? xff : xff.substr(comma + 1);
    last.erase(0, last.find_first_not_of(' '));
    if (!last.empty()) return last;
  }
  return req.remote_addr;
}

// A request rejected before its body was read: the unread body would be parsed as the next
// request on a kept-alive connection, so the connection must close.
void reject(Response& res, const Request& req, const HttpError& error) {
  send_error(res, error);
  if (req.has_header("Content-Length") || req.has_header("Transfer-Encoding"))
    res.set_header("Connection", "close");
}

Handled pre_route(ServerState& s, const Request& req, Response& res) {
  RequestContext& ctx = current_request();
  ctx.start = std::chrono::steady_clock::now();
  const std::string given = req.get_header_value("X-Request-Id");
  ctx.id = sane_request_id(given) ? given : random_id().substr(0, 16);
  res.set_header("X-Request-Id", ctx.id);
  ctx.client = peer_of(s, req);
  if (req.path == "/health") return Handled::Unhandled;  // probes need neither key nor budget

  if (s.keys.required()) {
    const std::string key =
        presented_key(req.get_header_value("Authorization"), req.get_header_value("X-API-Key"));
    if (!s.keys.accepts(key)) {
      s.metrics.record_rejection("unauthorized");
      res.set_header("WWW-Authenticate", "Bearer");
      reject(res, req, {401, "unauthorized", key.empty() ? "an API key is required (Authorization: Bearer <key>)"
                                                          : "the API key is not valid"});
      return Handled::Handled;
    }
    ctx.client = key_identity(key);  // one budget per key, wherever its requests come from
  }
  int retry_after = 0;
  if (!s.rate_limiter.allow(ctx.client, std::chrono::steady_clock::now(), retry_after)) {
    s.metrics.record_rejection("rate_limited");
    reject(res, req, {429, "rate_limited", "too many requests from this client", retry_after});
    return Handled::Handled;
  }
  if (s.draining && req.method == "POST") {
    s.metrics.record_rejection("draining");
    reject(res, req, {503, "draining", "the server is shutting down", 5});
    return Handled::Handled;
  }
  return Handled::Unhandled;
}

std::string utc_now() {
  char buf[32];
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// One JSON object per line on stderr, written with one write(2) so lines never interleave.
void access_log(ServerState& s, const Request& req, const Response& res) {
  RequestContext& ctx = current_request();
  s.metrics.record_response(res.status);
  const double ms =
      ctx.id.empty() ? 0
                     : std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - ctx.start).count();
  nlohmann::json line = {
      {"time", utc_now()},         {"requestId", ctx.id},   {"method", req.method},
      {"path", api::sanitize_utf8(req.path)}, {"status", res.status},
      {"durationMs", std::round(ms * 10) / 10}, {"remote", req.remote_addr},
      {"client", ctx.client},      {"bytes", res.body.size()},
  };
  std::string text = line.dump() + "\n";
  [[maybe_unused]] auto n = ::write(STDERR_FILENO, text.data(), text.size());
  ctx = RequestContext{};
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

}  // namespace

bool HttpServer::widen_backlog(int backlog) { return ::listen(svr_sock_, backlog) == 0; }

RequestContext& current_request() {
  thread_local RequestContext ctx;
  return ctx;
}

Server::Server(ServerOptions options, engine::Engine& engine) {
  if (options.max_running == ServerOptions::kAuto || options.max_running == 0)
    options.max_running = std::max(1u, std::thread::hardware_concurrency());
  if (options.max_queued == ServerOptions::kAuto) options.max_queued = 4 * options.max_running;
  state_ = std::make_unique<State>(std::move(options), engine);
  ServerState& s = *state_;
  const ServerOptions& o = s.options;
  auto& http = s.http;

  const std::size_t max_connections = o.max_connections;
  http.new_task_queue = [max_connections] { return new FixedPool(max_connections); };
  // SO_REUSEADDR only: httplib's default also sets SO_REUSEPORT, which would let a second
  // server (or any process of this user) bind the same port and take a share of our clients.
  http.set_socket_options([](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
  });
  http.set_read_timeout(o.read_timeout);
  http.set_write_timeout(o.write_timeout);
  http.set_keep_alive_timeout(o.keep_alive_timeout.count());
  http.set_keep_alive_max_count(1000);
  http.set_payload_max_length(o.body_limit);
  http.set_pre_routing_handler([&s](const Request& req, Response& res) { return pre_route(s, req, res); });
  http.set_logger([&s](const Request& req, const Response& res) { access_log(s, req, res); });
  // Bodies for the statuses httplib produces itself (413, 400, 404): the same error shape.
  http.set_error_handler(httplib::Server::HandlerWithResponse([](const Request&, Response& res) {
    if (!res.body.empty()) return Handled::Unhandled;
    send_error(res, for_status(res.status));
    return Handled::Handled;
  }));
  http.set_exception_handler([&s](const Request&, Response& res, std::exception_ptr ep) {
    std::string what = "unexpected error";
    try {
      if (ep) std::rethrow_exception(ep);
    } catch (const std::exception& e) {
      what = e.what();
    } catch (...) {
    }
    s.metrics.record_error("internal");
    send_error(res, {500, "internal", what});
  });

  add_meta_routes(s);
  add_service_routes(s);
  add_adhoc_routes(s);
  add_piston_routes(s);
}

Server::~Server() {
  stop();
  state_->jobs->shutdown();
  state_->run_pool->shutdown();
}

Result<int> Server::bind() {
  auto& s = *state_;
  raise_descriptor_limit(s.options);
  const int port = s.options.port == 0 ? s.http.bind_to_any_port(s.options.host)
                   : s.http.bind_to_port(s.options.host, s.options.port) ? s.options.port
                                                                         : -1;
  if (port <= 0)
    return fail(ErrorCode::unavailable, "cannot listen on " + s.options.host + ":" +
                                            std::to_string(s.options.port));
  if (!s.http.widen_backlog(SOMAXCONN)) return fail(Error::from_errno("listen"));
  return port;
}

void Server::serve() { state_->http.listen_after_bind(); }

void Server::drain(std::chrono::milliseconds grace) {
  auto& s = *state_;
  s.draining = true;
  s.jobs->close();
  s.admission.drain();  // queued requests get 503 now; running ones go on
  const auto deadline = std::chrono::steady_clock::now() + grace;
  if (!s.admission.wait_idle(deadline)) {
    // Grace is over: cancelling kills the sandboxes; each run then returns promptly.
    s.stop.request_stop();
    s.admission.wait_idle(std::chrono::steady_clock::now() + std::chrono::seconds(10));
  }
  s.jobs->shutdown();
  s.http.stop();
}

void Server::stop() {
  state_->stop.request_stop();
  state_->http.stop();
}

}  // namespace ignite::server
