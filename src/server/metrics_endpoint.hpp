// MetricsEndpoint: GET /metrics (Prometheus text) and GET /health on a port of their own, for
// processes whose work does not arrive over HTTP (`ignite worker --metrics-port`). It runs on the
// same hardened listener as the API (header/body bounds, timeouts, connection caps).
#pragma once
#include <functional>
#include <memory>
#include <string>

#include "core/result.hpp"

namespace ignite::server {

class MetricsEndpoint {
 public:
  // `render` is called per scrape, on a listener thread.
  explicit MetricsEndpoint(std::function<std::string()> render);
  ~MetricsEndpoint();  // stops serving and joins the thread
  MetricsEndpoint(const MetricsEndpoint&) = delete;
  MetricsEndpoint& operator=(const MetricsEndpoint&) = delete;

  // Binds host:port (0: a free port) and serves in a thread of its own; returns the port.
  Result<int> start(const std::string& host, int port);

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace ignite::server
