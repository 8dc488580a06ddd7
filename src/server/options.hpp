// ServerOptions: everything `ignite serve` is configured with, as one plain value.
#pragma once
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace ignite::runner {
class JobBackend;
}

namespace ignite::server {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 3000;                       // 0: the kernel picks a free port (printed on stdout)
  std::filesystem::path services_dir;    // empty: no service routes have anything to serve
  std::vector<std::string> api_keys;     // empty: no auth (every route is open)

  // Admission control: at most `max_running` sandboxes at once, `max_queued` requests waiting
  // for one; beyond that 429 + Retry-After.
  static constexpr std::size_t kAuto = static_cast<std::size_t>(-1);
  std::size_t max_running = kAuto;       // kAuto: number of cores
  std::size_t max_queued = kAuto;        // kAuto: 4 x max_running; 0: no queue at all
  std::chrono::milliseconds queue_timeout{30000};  // a queued request gives up (429) after this
  // A "queue full" 429 is answered after this pause. Clients that ignore Retry-After and retry
  // at once would otherwise spend the CPU the running sandboxes need on being told "no"; the
  // pause is a timer on the connection, it holds no thread.
  std::chrono::milliseconds reject_delay{250};

  // The HTTP transport (see http_listener.hpp for what each bound defends against).
  std::size_t body_limit = 1 << 20;      // bytes, however the body is framed; larger: 413
  std::chrono::seconds header_timeout{10};  // the whole request head must arrive within this
  std::chrono::seconds read_timeout{10};    // each read of a request body
  std::chrono::seconds write_timeout{10};   // each write of a response (256 KiB at most)
  std::chrono::seconds keep_alive_timeout{5};  // an idle kept-alive connection is closed after this
  std::size_t max_connections = 512;     // open connections in total; beyond, accepting pauses
  std::size_t max_connections_per_peer = 32;  // from one address (IPv6: /64); beyond, 429
  std::size_t max_idle_connections = 64;  // kept-alive connections between requests
  std::size_t io_threads = 2;            // event-loop threads (all created at start)

  // Per-client token bucket (client = API key, else peer address): `rate_limit` requests per
  // second with bursts of `rate_burst`. 0 disables it.
  double rate_limit = 0;
  double rate_burst = 0;                 // 0: 2 x rate_limit
  std::string trusted_proxy;             // peer address whose X-Forwarded-For is believed

  // Ceilings for what ad-hoc requests may ask for.
  std::uint32_t max_memory_mb = 1024;
  std::uint32_t max_timeout_ms = 60000;
  std::uint32_t default_memory_mb = 128;
  std::uint32_t default_timeout_ms = 10000;

  std::size_t max_jobs_queued = 256;     // POST /v1/jobs beyond this: 429
  std::size_t max_jobs_kept = 1000;      // finished jobs remembered for GET /v1/jobs/:id
  std::size_t max_job_result_bytes = 32u << 20;  // one kept result; larger ones become an error
  std::size_t max_jobs_bytes = 256u << 20;       // all kept results; the oldest are forgotten

  std::chrono::milliseconds grace{30000};  // SIGTERM: how long in-flight runs may finish

  // Set (serve --nats): POST /v1/jobs publishes into the NATS stream and GET /v1/jobs/:id reads
  // the stored status; workers anywhere run the jobs.
  std::shared_ptr<runner::JobBackend> remote_jobs;
};

}  // namespace ignite::server
