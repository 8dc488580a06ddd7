// The results bucket: the last status of every job by id (CONTRACT §6: a late subscriber can
// fetch it), and the record that makes a job's final status happen once: the first final status
// stored wins, and a worker that finishes the same id later republishes the stored one.
#pragma once
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/result.hpp"
#include "queue/nats_handle.hpp"

namespace ignite::queue {

class JobStore {
 public:
  explicit JobStore(kvStore* kv) : kv_(kv) {}

  // The stored status of `id`; nullopt when none is stored.
  Result<std::optional<nlohmann::json>> get(const std::string& id) const;
  // The stored final status (done | failed) of `id`, if there is one that is well-formed for
  // this id (api::valid_final); anything else stored is written over.
  Result<std::optional<nlohmann::json>> final_status(const std::string& id) const;
  // Records a progress update (queued, running) unless a final status is stored already.
  Result<void> put_progress(const std::string& id, const nlohmann::json& status);
  // Stores `status` as the final status of `id` unless one is stored already; returns the one
  // that is stored now (ours, or the earlier one, which the caller then publishes instead).
  struct Final {
    nlohmann::json status;
    bool ours = false;  // false: an earlier final status was stored, this is that one
  };
  Result<Final> put_final(const std::string& id, nlohmann::json status);

 private:
  struct Stored {
    nlohmann::json status;  // null when the value is not a JSON object
    std::uint64_t revision = 0;
  };
  Result<std::optional<Stored>> read(const std::string& id) const;
  // Writes unless a final status is stored (compare-and-set); returns what is stored now.
  Result<Final> put(const std::string& id, nlohmann::json status);

  kvStore* kv_;
};

}  // namespace ignite::queue
