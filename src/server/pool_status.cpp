#include "server/pool_status.hpp"

#include <cstdio>

namespace ignite::server {
namespace {

std::string labels(const pool::KeyStatus& k) {
  // Runtime and service names are checked at load time ([a-z0-9-]), the id is hex: nothing needs
  // escaping. The id keeps two pools of one runtime (other limits, a profile) two series.
  return "{pool=\"" + k.id + "\",runtime=\"" + k.runtime + "\",service=\"" + k.service + "\"}";
}

}  // namespace

std::string render_pool_metrics(const pool::PoolsStatus& status) {
  std::string out;
  auto family = [&](const char* name, const char* type, const char* help, auto value) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
    for (const auto& k : status.keys) {
      char num[64];
      std::snprintf(num, sizeof num, "%.6g", static_cast<double>(value(k)));
      out += std::string(name) + labels(k) + " " + num + "\n";
    }
  };
  family("ignite_pool_idle_slots", "gauge", "Warm slots ready for a job.", [](const auto& k) { return k.idle; });
  family("ignite_pool_starting_slots", "gauge", "Warm slots being started.", [](const auto& k) { return k.starting; });
  family("ignite_pool_target_slots", "gauge", "Idle slots the pool aims at (from demand).", [](const auto& k) { return k.target; });
  family("ignite_pool_hits_total", "counter", "Jobs that took a warm slot.", [](const auto& k) { return k.hits; });
  family("ignite_pool_misses_total", "counter", "Jobs that found no warm slot and started cold.", [](const auto& k) { return k.misses; });
  family("ignite_pool_started_total", "counter", "Warm slots started.", [](const auto& k) { return k.started; });
  family("ignite_pool_failed_total", "counter", "Warm slots that failed to start, discarded.", [](const auto& k) { return k.failed; });
  family("ignite_pool_refill_seconds", "gauge", "Moving average of the time to start one warm slot.",
         [](const auto& k) { return k.refill_ms / 1000.0; });
  out += "# HELP ignite_pool_idle_memory_bytes Memory all idle warm slots hold.\n"
         "# TYPE ignite_pool_idle_memory_bytes gauge\nignite_pool_idle_memory_bytes " +
         std::to_string(status.idle_memory_bytes) + "\n";
  return out;
}

nlohmann::json pools_json(const pool::PoolsStatus& status) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& k : status.keys) {
    list.push_back({{"id", k.id},
                    {"runtime", k.runtime},
                    {"service", k.service},
                    {"memoryMb", k.memory_bytes >> 20},
                    {"idle", k.idle},
                    {"starting", k.starting},
                    {"target", k.target},
                    {"hits", k.hits},
                    {"misses", k.misses},
                    {"started", k.started},
                    {"failed", k.failed},
                    {"shrunk", k.shrunk},
                    {"refillMs", k.refill_ms},
                    {"demandPerS", k.rate_per_s}});
  }
  return {{"pools", std::move(list)},
          {"idleMemoryBytes", status.idle_memory_bytes},
          {"memoryBudgetBytes", status.memory_budget_bytes}};
}

}  // namespace ignite::server
