// `ignite serve`: the HTTP transport over one Engine (CONTRACT §5). Routes, auth, admission
// control, rate limits, streaming, metrics, access log, graceful drain.
#pragma once
#include <chrono>
#include <memory>

#include "core/result.hpp"
#include "engine/engine.hpp"
#include "server/options.hpp"

namespace ignite::server {

class Server {
 public:
  Server(ServerOptions options, engine::Engine& engine);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the listening socket; returns the port (the chosen one for port 0). Fails with
  // `unavailable` when the address cannot be bound.
  Result<int> bind();

  // Accepts and serves until stop() (or drain()) ends it. Blocks; call after bind().
  void serve();

  // SIGTERM: refuse new work (503, /health says "draining"), let in-flight runs finish for up to
  // `grace`, cancel the rest, then stop serving. Thread-safe; returns when serve() may return.
  void drain(std::chrono::milliseconds grace);

  // Stops at once (in-flight runs are cancelled).
  void stop();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace ignite::server
