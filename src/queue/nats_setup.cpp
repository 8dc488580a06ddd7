#include "queue/nats_setup.hpp"

#include <algorithm>
#include <thread>

#include <spdlog/spdlog.h>

namespace ignite::queue {
namespace {

constexpr std::int64_t kNanos = 1'000'000'000;

void on_disconnected(natsConnection*, void* closure) {
  const auto* o = static_cast<const NatsOptions*>(closure);
  spdlog::warn("nats: disconnected; reconnecting");
  if (o->on_connection_change) o->on_connection_change(false);
}

void on_reconnected(natsConnection* nc, void* closure) {
  const auto* o = static_cast<const NatsOptions*>(closure);
  char url[256] = {};
  nats().natsConnection_GetConnectedUrl(nc, url, sizeof url);
  spdlog::info("nats: reconnected to {}", url);
  if (o->on_connection_change) o->on_connection_change(true);
}

// A stream's settings: created when missing, else updated (so a changed max age or replica
// count takes effect); an update the server refuses (e.g. changing the retention) is an error.
Result<void> ensure_stream(jsCtx* js, jsStreamConfig& cfg, bool update_existing) {
  jsStreamInfo* raw = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = nats().js_AddStream(&raw, js, &cfg, nullptr, &jerr);
  StreamInfo info(raw);
  if (s == NATS_OK) return {};
  if (jerr != JSStreamNameExistErr) return check(s, std::string("create stream ") + cfg.Name, jerr);
  if (!update_existing) return {};
  raw = nullptr;
  s = nats().js_UpdateStream(&raw, js, &cfg, nullptr, &jerr);
  info.reset(raw);
  return check(s, std::string("update stream ") + cfg.Name, jerr);
}

}  // namespace

std::vector<std::string> split_urls(const std::string& list) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= list.size()) {
    const std::size_t comma = std::min(list.find(',', start), list.size());
    std::string url = list.substr(start, comma - start);
    url.erase(0, url.find_first_not_of(' '));
    url.erase(url.find_last_not_of(' ') + 1);
    if (!url.empty()) out.push_back(std::move(url));
    start = comma + 1;
  }
  return out;
}

Result<Options> make_options(const NatsOptions& o) {
  IGNITE_TRY(load_nats());  // every way into the transport starts here
  natsOptions* raw = nullptr;
  if (auto r = check(nats().natsOptions_Create(&raw), "nats options"); !r) return fail(r.error());
  Options opts(raw);
  std::vector<const char*> urls;
  for (const auto& u : o.urls) urls.push_back(u.c_str());
  if (urls.empty()) return fail(ErrorCode::invalid_argument, "no NATS server URL given");
  auto set = [&](natsStatus s, const char* what) { return check(s, what); };
  for (auto r : {set(nats().natsOptions_SetServers(raw, urls.data(), static_cast<int>(urls.size())), "servers"),
                 set(nats().natsOptions_SetName(raw, o.name.c_str()), "name"),
                 set(nats().natsOptions_SetMaxReconnect(raw, -1), "max reconnect"),
                 set(nats().natsOptions_SetReconnectWait(raw, 250), "reconnect wait"),
                 set(nats().natsOptions_SetTimeout(raw, 2000), "connect timeout"),
                 // Jobs published while reconnecting wait in this buffer instead of failing.
                 set(nats().natsOptions_SetReconnectBufSize(raw, 32 << 20), "reconnect buffer"),
                 set(nats().natsOptions_SetDisconnectedCB(raw, on_disconnected, const_cast<NatsOptions*>(&o)), "callback"),
                 set(nats().natsOptions_SetReconnectedCB(raw, on_reconnected, const_cast<NatsOptions*>(&o)), "callback")}) {
    if (!r) return fail(std::move(r).error());
  }
  if (!o.creds.empty()) {
    if (auto r = check(nats().natsOptions_SetUserCredentialsFromFiles(raw, o.creds.c_str(), nullptr), "--creds " + o.creds); !r)
      return fail(std::move(r).error());
  }
  if (o.tls || !o.tls_ca.empty() || !o.tls_cert.empty()) {
    if (auto r = check(nats().natsOptions_SetSecure(raw, true), "tls"); !r) return fail(std::move(r).error());
    if (!o.tls_ca.empty())
      if (auto r = check(nats().natsOptions_LoadCATrustedCertificates(raw, o.tls_ca.c_str()), "--tls-ca " + o.tls_ca); !r)
        return fail(std::move(r).error());
    if (!o.tls_cert.empty())
      if (auto r = check(nats().natsOptions_LoadCertificatesChain(raw, o.tls_cert.c_str(), o.tls_key.c_str()), "--tls-cert"); !r)
        return fail(std::move(r).error());
  }
  return opts;
}

bool RetryPacer::again(const Error& e) {
  if (e.code != ErrorCode::unavailable || give_up_()) return false;
  ++failures_;
  if ((failures_ & (failures_ - 1)) == 0) spdlog::warn("{}; retrying", e.message);
  std::this_thread::sleep_for(pause_);
  pause_ = std::min(pause_ * 2, std::chrono::milliseconds(2000));
  return true;
}

Result<Connection> connect(const NatsOptions& o, const std::function<bool()>& give_up) {
  auto opts = make_options(o);
  if (!opts) return fail(std::move(opts).error());
  // Only "no server yet" is worth waiting for; bad credentials or TLS settings are not.
  return retry_while_unavailable(give_up, [&]() -> Result<Connection> {
    natsConnection* raw = nullptr;
    const natsStatus s = nats().natsConnection_Connect(&raw, opts->get());
    if (s == NATS_OK) return Connection(raw);
    return fail(nats_error("connect to NATS", s));
  });
}

Result<JetStream> jetstream(natsConnection* nc) {
  jsOptions jo;
  nats().jsOptions_Init(&jo);
  jo.Wait = 5000;  // JetStream API calls (publish acks, KV) in ms; a cluster election takes ~2 s
  jsCtx* raw = nullptr;
  if (auto r = check(nats().natsConnection_JetStream(&raw, nc, &jo), "jetstream"); !r) return fail(std::move(r).error());
  return JetStream(raw);
}

Result<void> ensure_streams(jsCtx* js, const StreamOptions& o, bool update_existing) {
  jsStreamConfig cfg;
  nats().jsStreamConfig_Init(&cfg);
  const char* subjects[] = {o.subject.c_str()};
  cfg.Name = o.stream.c_str();
  cfg.Subjects = subjects;
  cfg.SubjectsLen = 1;
  cfg.Retention = js_WorkQueuePolicy;  // a job leaves the stream when a worker acks it
  cfg.Storage = js_FileStorage;
  cfg.Replicas = o.replicas;
  cfg.MaxAge = o.max_age.count() * kNanos;
  cfg.Duplicates = o.duplicate_window.count() * kNanos;
  if (auto r = ensure_stream(js, cfg, update_existing); !r) return r;

  // Dead letters: kept (limits retention) for an operator to look at, for the same max age.
  const std::string dead = o.stream + "_DEAD";
  const char* dead_subjects[] = {o.dead_subject.c_str()};
  jsStreamConfig dcfg;
  nats().jsStreamConfig_Init(&dcfg);
  dcfg.Name = dead.c_str();
  dcfg.Subjects = dead_subjects;
  dcfg.SubjectsLen = 1;
  dcfg.Retention = js_LimitsPolicy;
  dcfg.Storage = js_FileStorage;
  dcfg.Replicas = o.replicas;
  dcfg.MaxAge = o.max_age.count() * kNanos;
  // Bounded in bytes too: whoever may publish jobs could otherwise fill the disk with junk.
  dcfg.MaxBytes = o.dead_max_bytes;
  dcfg.Discard = js_DiscardOld;
  return ensure_stream(js, dcfg, update_existing);
}

Result<void> ensure_consumer(jsCtx* js, const StreamOptions& o) {
  jsConsumerConfig cc;
  nats().jsConsumerConfig_Init(&cc);
  cc.Durable = o.consumer.c_str();
  cc.AckPolicy = js_AckExplicit;
  cc.AckWait = o.ack_wait.count() * kNanos;
  // One delivery more than the runs allowed: that last one reports "failed" instead of running,
  // so a job that crashed every worker still gets a final status.
  cc.MaxDeliver = o.max_deliver + 1;
  cc.MaxAckPending = -1;
  cc.FilterSubject = o.subject.c_str();
  jsConsumerInfo* raw = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  natsStatus s = nats().js_AddConsumer(&raw, js, o.stream.c_str(), &cc, nullptr, &jerr);
  ConsumerInfo info(raw);
  if (s == NATS_OK) return {};
  raw = nullptr;
  s = nats().js_UpdateConsumer(&raw, js, o.stream.c_str(), &cc, nullptr, &jerr);
  info.reset(raw);
  return check(s, "consumer " + o.consumer, jerr);
}

Result<KeyValue> ensure_results(jsCtx* js, const StreamOptions& o) {
  kvConfig kc;
  nats().kvConfig_Init(&kc);
  kc.Bucket = o.results_bucket.c_str();
  kc.History = 1;
  kc.TTL = o.results_ttl.count() * kNanos;
  kc.StorageType = js_FileStorage;
  kc.Replicas = o.replicas;
  kvStore* raw = nullptr;
  natsStatus s = nats().js_CreateKeyValue(&raw, js, &kc);
  if (s != NATS_OK) s = nats().js_KeyValue(&raw, js, o.results_bucket.c_str());  // exists already
  if (auto r = check(s, "results bucket " + o.results_bucket); !r) return fail(std::move(r).error());
  return KeyValue(raw);
}

Result<KeyValue> ensure_jetstream_objects(jsCtx* js, const StreamOptions& o) {
  if (auto r = ensure_streams(js, o); !r) return fail(std::move(r).error());
  if (auto r = ensure_consumer(js, o); !r) return fail(std::move(r).error());
  return ensure_results(js, o);
}

}  // namespace ignite::queue
