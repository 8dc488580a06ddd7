#include "queue/job_store.hpp"

#include "api/json_limits.hpp"

namespace ignite::queue {

bool JobStore::is_final(const nlohmann::json& status) {
  const auto s = status.value("status", "");
  return s == "done" || s == "failed";
}

Result<std::optional<JobStore::Stored>> JobStore::read(const std::string& id) const {
  kvEntry* raw = nullptr;
  const natsStatus s = kvStore_Get(&raw, kv_, id.c_str());
  KvEntry entry(raw);
  if (s == NATS_NOT_FOUND) return std::optional<Stored>();
  if (auto r = check(s, "read job " + id); !r) return fail(std::move(r).error());
  const auto* data = static_cast<const char*>(kvEntry_Value(entry.get()));
  // Security: the bucket is writable by whoever may publish on NATS: bounded parse.
  auto doc = api::parse_json_bounded(std::string_view(data ? data : "", static_cast<std::size_t>(kvEntry_ValueLen(entry.get()))));
  if (!doc || !doc->is_object()) return std::optional<Stored>();  // not ours: as if absent
  return std::optional<Stored>(Stored{std::move(*doc), kvEntry_Revision(entry.get())});
}

Result<std::optional<nlohmann::json>> JobStore::get(const std::string& id) const {
  auto stored = read(id);
  if (!stored) return fail(std::move(stored).error());
  if (!*stored) return std::optional<nlohmann::json>();
  return std::optional<nlohmann::json>(std::move((*stored)->status));
}

Result<std::optional<nlohmann::json>> JobStore::final_status(const std::string& id) const {
  auto stored = get(id);
  if (stored && *stored && !is_final(**stored)) return std::optional<nlohmann::json>();
  return stored;
}

Result<void> JobStore::put_progress(const std::string& id, const nlohmann::json& status) {
  auto stored = read(id);
  if (!stored) return fail(std::move(stored).error());
  if (*stored && is_final((*stored)->status)) return {};
  const std::string text = status.dump();
  std::uint64_t rev = 0;
  return check(kvStore_Put(&rev, kv_, id.c_str(), text.data(), static_cast<int>(text.size())), "store status of " + id);
}

Result<JobStore::Final> JobStore::put_final(const std::string& id, nlohmann::json status) {
  const std::string text = status.dump();
  // Compare-and-set on the revision read: two workers finishing the same id (a duplicate
  // published without Nats-Msg-Id) store one final status between them.
  for (int attempt = 0; attempt < 5; ++attempt) {
    auto stored = read(id);
    if (!stored) return fail(std::move(stored).error());
    if (*stored && is_final((*stored)->status)) return Final{std::move((*stored)->status), false};
    std::uint64_t rev = 0;
    const natsStatus s =
        *stored ? kvStore_Update(&rev, kv_, id.c_str(), text.data(), static_cast<int>(text.size()), (*stored)->revision)
                : kvStore_Create(&rev, kv_, id.c_str(), text.data(), static_cast<int>(text.size()));
    if (s == NATS_OK) return Final{std::move(status), true};
    if (s != NATS_ERR) return fail(nats_error("store result of " + id, s));
    // NATS_ERR: the revision moved under us (someone stored meanwhile): read again.
  }
  return fail(ErrorCode::unavailable, "store result of " + id + ": the entry keeps changing");
}

}  // namespace ignite::queue
