// Pools: warm slots kept ready per kind of run, so a job skips the sandbox's and the runtime's
// start-up. Keyed by the slot spec (runtime and version, limits, service, environment): a job
// only ever gets a slot that a cold start of the same run would have built. Single use: a
// slot runs one job and is destroyed (off the request's path). A miss, or a slot that died
// while idle, runs cold: never an error for lack of slots.
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "core/result.hpp"
#include "pool/demand.hpp"
#include "sandbox/backend.hpp"
#include "sys/fd.hpp"

namespace ignite::pool {

struct PoolConfig {
  // Which runtimes have pools, with min..max idle slots per key; others always start cold.
  std::map<std::string, Bounds, std::less<>> runtimes;
  std::uint64_t memory_budget_bytes = 1ull << 30;   // idle slots of every pool together
  std::chrono::milliseconds idle_after{30000};      // no demand this long: shrink to the minimum
  // No demand this long: the key is dropped with its slots (and the leases they held), unless
  // it was primed (the server's own ad-hoc pools keep their minimum for good).
  std::chrono::milliseconds forget_after{600000};
  // Slots started in parallel; 0: one per core, at least two. Twice the cores (the default
  // before) overcommitted the CPU under load: runs started beside jobs cost each other more CPU
  // (docs/performance.md, "Warm slots' CPU"). Half as many threads reap spent slots.
  unsigned refill_threads = 0;
};

struct KeyStatus {
  std::string id;                // 12 hex digits of the key's hash: two kinds of run of one
                                 // runtime (limits, profile) are two pools
  std::string runtime, service;  // service: "" for ad-hoc code
  std::uint64_t memory_bytes = 0;  // the slots' memory limit
  std::size_t idle = 0, starting = 0;
  std::uint32_t target = 0;
  std::uint64_t hits = 0, misses = 0, started = 0, failed = 0, shrunk = 0;
  double refill_ms = 0;    // moving average of start() of one slot
  double rate_per_s = 0;   // demand
};

struct PoolsStatus {
  std::vector<KeyStatus> keys;
  std::uint64_t idle_memory_bytes = 0;
  std::uint64_t memory_budget_bytes = 0;
};

// Parses "python=2..16,node=1..8" (a bare "python=4" is 4..4; "none" is no pools).
Result<std::map<std::string, Bounds, std::less<>>> parse_pool_flag(std::string_view text);

class Pools {
 public:
  Pools(sandbox::Backend& backend, PoolConfig config);
  ~Pools();  // stops refilling, destroys every slot: nothing is left behind

  sandbox::Backend& backend() const { return backend_; }
  Pools(const Pools&) = delete;
  Pools& operator=(const Pools&) = delete;

  bool serves(std::string_view runtime) const { return config_.runtimes.find(runtime) != config_.runtimes.end(); }
  const std::map<std::string, Bounds, std::less<>>& runtimes() const { return config_.runtimes; }

  // Runs `job` in a warm slot built from `slot` if one is ready, else `cold` with the backend.
  // Either way the demand is counted, so the pool for this key grows. `holds`: what must stay
  // open while slots of this key exist (leases on the build artifacts the slot mounts); the
  // key keeps the first it is given until it is forgotten.
  Result<ExecutionResult> run(std::string_view runtime, const SandboxSpec& slot, sandbox::Job job,
                              const SandboxSpec& cold, std::stop_token stop, const sandbox::OutputSink& sink,
                              std::vector<sys::Fd> holds = {});

  // Makes the key known before the first job, so its minimum is started now.
  void prime(std::string_view runtime, const SandboxSpec& slot);

  PoolsStatus status() const;

 private:
  struct Key;
  Key& key_for(std::string_view runtime, const SandboxSpec& slot);  // mu_ held
  Key* next_to_refill(Clock::time_point now);                        // mu_ held
  void trim(Clock::time_point now);                                  // mu_ held
  std::unique_ptr<sandbox::Slot> take_idle(Key& key);               // mu_ held: the oldest
  void refill_loop(std::stop_token stop);
  void reap_loop(std::stop_token stop);
  void retire(std::unique_ptr<sandbox::Slot> slot);

  sandbox::Backend& backend_;
  PoolConfig config_;
  mutable std::mutex mu_;
  std::condition_variable_any wake_refill_, wake_reaper_, slot_ready_;
  std::map<std::string, std::unique_ptr<Key>> keys_;
  std::deque<std::unique_ptr<sandbox::Slot>> spent_;
  std::uint64_t idle_memory_ = 0;
  // Last: started after everything above exists, joined before it goes. Security: slots are
  // started on these long-lived threads (PDEATHSIG follows the starting thread; child.cpp).
  std::vector<std::jthread> threads_;
};

}  // namespace ignite::pool
