#include "queue/job_store.hpp"

#include "api/ignis.hpp"
#include "core/json_limits.hpp"

namespace ignite::queue {

Result<std::optional<JobStore::Stored>> JobStore::read(const std::string& id) const {
  kvEntry* raw = nullptr;
  const natsStatus s = nats().kvStore_Get(&raw, kv_, id.c_str());
  KvEntry entry(raw);
  if (s == NATS_NOT_FOUND) return std::optional<Stored>();
  if (auto r = check(s, "read job " + id); !r) return fail(std::move(r).error());
  const auto* data = static_cast<const char*>(nats().kvEntry_Value(entry.get()));
  // Security: the bucket is writable by whoever may use the JetStream API: bounded parse, and
  // what is not an object is kept as null (it has a revision all the same, to write over).
  auto doc = parse_json_bounded(std::string_view(data ? data : "", static_cast<std::size_t>(nats().kvEntry_ValueLen(entry.get()))));
  nlohmann::json status = doc && doc->is_object() ? std::move(*doc) : nlohmann::json();
  return std::optional<Stored>(Stored{std::move(status), nats().kvEntry_Revision(entry.get())});
}

Result<std::optional<nlohmann::json>> JobStore::get(const std::string& id) const {
  auto stored = read(id);
  if (!stored) return fail(std::move(stored).error());
  if (!*stored || !(*stored)->status.is_object()) return std::optional<nlohmann::json>();
  return std::optional<nlohmann::json>(std::move((*stored)->status));
}

Result<std::optional<nlohmann::json>> JobStore::final_status(const std::string& id) const {
  auto stored = read(id);
  if (!stored) return fail(std::move(stored).error());
  if (!*stored || !api::valid_final((*stored)->status, id)) return std::optional<nlohmann::json>();
  return std::optional<nlohmann::json>(std::move((*stored)->status));
}

Result<JobStore::Final> JobStore::put(const std::string& id, nlohmann::json status) {
  const std::string text = status.dump();
  // Compare-and-set on the revision read, for progress and final statuses alike: a write never
  // lands on a final status stored after our read (two copies of one id running at once store
  // one final status between them, and no "running" overwrites it).
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto stored = read(id);
    if (!stored) return fail(std::move(stored).error());
    if (*stored && api::valid_final((*stored)->status, id)) return Final{std::move((*stored)->status), false};
    std::uint64_t rev = 0;
    const natsStatus s =
        *stored ? nats().kvStore_Update(&rev, kv_, id.c_str(), text.data(), static_cast<int>(text.size()), (*stored)->revision)
                : nats().kvStore_Create(&rev, kv_, id.c_str(), text.data(), static_cast<int>(text.size()));
    if (s == NATS_OK) return Final{std::move(status), true};
    if (s != NATS_ERR) return fail(nats_error("store status of " + id, s));
    // NATS_ERR: the revision moved under us (someone stored meanwhile): read again.
  }
  return fail(ErrorCode::unavailable, "store status of " + id + ": the entry keeps changing");
}

Result<void> JobStore::put_progress(const std::string& id, const nlohmann::json& status) {
  auto r = put(id, status);
  if (!r) return fail(std::move(r).error());
  return {};
}

Result<JobStore::Final> JobStore::put_final(const std::string& id, nlohmann::json status) {
  return put(id, std::move(status));
}

}  // namespace ignite::queue
