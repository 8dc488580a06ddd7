#include "queue/nats_jobs.hpp"

#include <spdlog/spdlog.h>

#include "api/ignis.hpp"
#include "runner/jobs.hpp"
#include "sys/sha256.hpp"

namespace ignite::queue {
namespace {

using nlohmann::json;

std::string sha256_hex(std::string_view text) {
  sys::Sha256 h;
  h.update(text);
  return h.hex();
}

// The key a job's owner is kept under. Job ids cannot contain '.', so it never names a job.
std::string owner_key(const std::string& id) { return "owner." + id; }

// The HTTP body for a stored status (CONTRACT §5's job shape): queued, running, or the result.
json http_body(const std::string& id, const json& stored) {
  const std::string status = stored.value("status", "");
  if (status != "done" && status != "failed") return {{"id", id}, {"status", status == "queued" ? "queued" : "running"}};
  const json result = stored.value("result", json::object());
  // A job that did not run carries an error body; a run that did not succeed is still a result.
  if (result.contains("error") && result["error"].is_object())
    return {{"id", id}, {"status", "failed"}, {"error", result["error"]}};
  return {{"id", id}, {"status", "done"}, {"result", result}};
}

}  // namespace

NatsJobs::NatsJobs(NatsOptions nats, StreamOptions stream) : nats_(std::move(nats)), stream_(std::move(stream)) {}

NatsJobs::~NatsJobs() { close(); }

Result<void> NatsJobs::start(std::chrono::milliseconds patience) {
  const auto deadline = std::chrono::steady_clock::now() + patience;
  const auto out_of_patience = [&] { return std::chrono::steady_clock::now() > deadline; };
  auto nc = connect(nats_, out_of_patience);
  if (!nc) return fail(std::move(nc).error());
  nc_ = std::move(*nc);
  auto js = jetstream(nc_.get());
  if (!js) return fail(std::move(js).error());
  js_ = std::move(*js);
  auto kv = retry_while_unavailable(out_of_patience, [&]() -> Result<KeyValue> {
    IGNITE_TRY(ensure_streams(js_.get(), stream_, /*update_existing=*/false));
    return ensure_results(js_.get(), stream_);
  });
  if (!kv) return fail(std::move(kv).error());
  kv_ = std::move(*kv);
  store_ = std::make_unique<JobStore>(kv_.get());
  return {};
}

runner::JobBackend::Submitted NatsJobs::submit(engine::AdhocRequest request, std::string owner,
                                               const std::string& idempotency_key) {
  {
    std::lock_guard lock(mu_);
    if (closed_) return {};
  }
  // An idempotency key names its job: the same key gives the same id, which JetStream
  // de-duplicates (Nats-Msg-Id) and the results bucket answers after the window.
  const std::string id =
      idempotency_key.empty() ? runner::random_id() : sha256_hex("ignite-job/" + idempotency_key).substr(0, 32);
  if (!idempotency_key.empty()) {
    if (auto known = store_->get(id); known && *known) return {true, id, http_body(id, **known)["status"]};
  }
  if (!owner.empty()) {
    const std::string hash = sha256_hex(owner);
    std::uint64_t rev = 0;
    if (auto r = check(nats().kvStore_Put(&rev, kv_.get(), owner_key(id).c_str(), hash.data(), static_cast<int>(hash.size())),
                       "store job owner");
        !r)
      return {false, "", "", "the job queue is unavailable: " + r.error().message};
  }
  if (auto r = store_->put_progress(id, {{"id", id}, {"status", "queued"}}); !r)
    return {false, "", "", "the job queue is unavailable: " + r.error().message};
  const std::string text = api::job_message(id, request).dump();
  natsMsg* raw = nullptr;
  if (nats().natsMsg_Create(&raw, stream_.subject.c_str(), nullptr, text.data(), static_cast<int>(text.size())) != NATS_OK)
    return {false, "", "", "the job queue is unavailable: cannot make a message"};
  Message msg(raw);
  nats().natsMsgHeader_Set(raw, "Nats-Msg-Id", id.c_str());
  jsPubAck* ack = nullptr;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  const natsStatus s = nats().js_PublishMsg(&ack, js_.get(), raw, nullptr, &jerr);
  PubAck holder(ack);
  if (auto r = check(s, "publish job", jerr); !r) {
    spdlog::warn("serve --nats: {}", r.error().message);
    return {false, "", "", "the job queue is unavailable: " + r.error().message};
  }
  return {true, id, "queued"};
}

std::shared_ptr<const std::string> NatsJobs::get(const std::string& id, const std::string& owner) const {
  if (!api::usable_job_id(id) || !store_) return nullptr;
  // Security: another key's job answers exactly like an unknown one.
  kvEntry* raw = nullptr;
  const natsStatus s = nats().kvStore_Get(&raw, kv_.get(), owner_key(id).c_str());
  KvEntry entry(raw);
  const std::string want = owner.empty() ? "" : sha256_hex(owner);
  const std::string have = s == NATS_OK ? nats().kvEntry_ValueString(entry.get()) : "";
  if (have != want) return nullptr;
  auto stored = store_->get(id);
  if (!stored || !*stored) return nullptr;
  return std::make_shared<const std::string>(http_body(id, **stored).dump() + "\n");
}

void NatsJobs::close() {
  std::lock_guard lock(mu_);
  if (closed_) return;
  closed_ = true;
  if (nc_) nats().natsConnection_FlushTimeout(nc_.get(), 2000);
}

}  // namespace ignite::queue
