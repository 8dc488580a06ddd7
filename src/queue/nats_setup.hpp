// Connecting to NATS and making sure the JetStream objects the worker needs exist: the jobs
// stream (work-queue retention), the durable pull consumer all workers share, the results
// bucket (KV) and the dead-letter stream. Every worker and `serve --nats` call these at start;
// creating what already exists with the same configuration is a no-op, so no setup step is
// needed before the first worker starts.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/result.hpp"
#include "queue/nats_handle.hpp"

namespace ignite::queue {

struct NatsOptions {
  std::vector<std::string> urls;   // one server or several nodes of a cluster
  std::string name = "ignite";     // the client name servers show
  std::string creds;               // a .creds file (JWT + NKey); empty: none
  bool tls = false;                // require TLS
  std::string tls_ca, tls_cert, tls_key;
  // Called from cnats's thread on disconnect / reconnect (for logs and counters).
  std::function<void(bool connected)> on_connection_change;
};

struct StreamOptions {
  std::string stream = "IGNITE_JOBS";
  std::string subject = "jobs";            // CONTRACT §6
  int replicas = 1;                        // 3 on a 3-node cluster: survives a node's loss
  std::chrono::seconds max_age{24 * 3600}; // a job nobody ran for this long is dropped
  std::chrono::seconds duplicate_window{120};  // Nats-Msg-Id de-duplication
  std::string consumer = "ignite-workers";
  std::chrono::seconds ack_wait{30};       // a worker that stops extending it loses the job
  int max_deliver = 5;                     // runs attempted; the next delivery gives up
  std::string results_bucket = "ignite_results";
  std::chrono::seconds results_ttl{24 * 3600};
  std::string dead_subject = "ignite.dead.jobs";
  std::int64_t dead_max_bytes = 256ll << 20;  // the dead-letter stream; the oldest go first
  std::string status_prefix = "job_status.";  // CONTRACT §6
};

// Paces the retries of a step that fails while NATS is not ready yet: no server answering, or a
// JetStream request timing out while a cluster elects a leader or a loaded node lags (an R3
// stream's creation took over 5 s on a busy CI host). Pauses 100 ms, doubling up to 2 s, and
// warns on the 1st, 2nd, 4th, 8th... failure.
class RetryPacer {
 public:
  explicit RetryPacer(std::function<bool()> give_up) : give_up_(std::move(give_up)) {}
  // True, after the pause, when `e` is worth another try; false at once for a lasting error
  // (anything but ErrorCode::unavailable) or when give_up() says so.
  bool again(const Error& e);

 private:
  std::function<bool()> give_up_;
  std::chrono::milliseconds pause_{100};
  int failures_ = 0;
};

// Runs `attempt` until it succeeds, fails for good, or `give_up` returns true.
template <class Attempt>
auto retry_while_unavailable(std::function<bool()> give_up, Attempt attempt) -> decltype(attempt()) {
  RetryPacer pacer(std::move(give_up));
  for (;;) {
    auto r = attempt();
    if (r || !pacer.again(r.error())) return r;
  }
}

Result<Options> make_options(const NatsOptions& o);
// Connects, retrying (as retry_while_unavailable) until `give_up` returns true. Reconnects are
// automatic afterwards, for ever, across every URL given.
Result<Connection> connect(const NatsOptions& o, const std::function<bool()>& give_up);

Result<JetStream> jetstream(natsConnection* nc);
// The jobs stream and the dead-letter stream: created, or (update_existing) updated to these
// settings. Workers update; `serve --nats` only creates, so a front end started with other
// settings does not flip the workers' (replicas, max age) back and forth.
Result<void> ensure_streams(jsCtx* js, const StreamOptions& o, bool update_existing = true);
// The shared durable pull consumer.
Result<void> ensure_consumer(jsCtx* js, const StreamOptions& o);
// The results bucket (KV, keyed by job id).
Result<KeyValue> ensure_results(jsCtx* js, const StreamOptions& o);

// All three of the above: what a worker needs before it fetches its first job.
Result<KeyValue> ensure_jetstream_objects(jsCtx* js, const StreamOptions& o);

// Splits "nats://a:4222,nats://b:4222" into its URLs.
std::vector<std::string> split_urls(const std::string& list);

}  // namespace ignite::queue
