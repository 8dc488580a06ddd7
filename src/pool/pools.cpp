#include "pool/pools.hpp"

#include <charconv>

#include <spdlog/spdlog.h>

#include "core/framed.hpp"
#include "sandbox/common/handoff.hpp"
#include "sys/sha256.hpp"

namespace ignite::pool {
namespace {

using std::chrono::milliseconds;

// An idle slot's memory before its first one was measured (a started runtime, roughly).
constexpr std::uint64_t kGuessSlotBytes = 32ull << 20;
// After failed starts in a row, a key waits 1 s, 2 s, 4 s ... up to a minute before the next
// attempt (a host that cannot start a runtime's slot should not spin or flood the log).
constexpr milliseconds kFailureBackoff{1000};
constexpr unsigned kMaxBackoffDoublings = 6;

// Everything of the slot spec that a started slot has baked in: equal keys, equal slots.
std::string slot_key(std::string_view runtime, const SandboxSpec& s) {
  std::string k;
  k += framed(runtime);
  for (const auto& a : s.argv) k += framed(a);
  k += '|';
  for (const auto& e : s.env) k += framed(e);
  k += '|';
  k += framed(s.workdir.string());
  for (const auto& m : s.mounts) {
    k += framed(m.source.string());
    k += framed(m.target.string());
    k += m.writable ? 'w' : 'r';
    k += m.exclusive ? 'x' : 's';
  }
  k += '|';
  for (const auto& f : s.files) {
    k += framed(f.target.string());
    k += framed(f.content);
  }
  k += '|';
  for (const auto& d : s.drop_dirs) k += framed(d.string());
  k += '|';
  if (s.output) {
    const OutputDir& o = *s.output;
    for (const auto& v : {o.target.string(), std::to_string(o.max_bytes), std::to_string(o.max_entries),
                          std::string(o.lenient ? "l" : "s")})
      k += framed(v);
  }
  k += '|';
  const Limits& l = s.limits;
  for (auto v : {std::uint64_t(l.wall_time.count()), l.memory_bytes, std::uint64_t(l.cpu_cores * 1000),
                 std::uint64_t(l.max_processes), l.max_output_bytes, l.max_file_bytes, l.tmp_bytes,
                 std::uint64_t(l.max_open_files), l.stack_bytes, std::uint64_t(l.network)})
    k += framed(std::to_string(v));
  return k;
}

// The service a slot is for: "" for ad-hoc code (whose /app arrives with the job).
std::string service_of(const SandboxSpec& s) {
  for (const auto& d : s.drop_dirs) {
    if (d == "/app") return "";
  }
  for (const auto& e : s.env) {
    if (e.rfind("IGNITE_SERVICE=", 0) == 0) return e.substr(15);
  }
  return "";
}

}  // namespace

struct Pools::Key {
  std::string id;  // KeyStatus::id
  std::string runtime, service;
  SandboxSpec spec;
  Bounds bounds;
  std::deque<std::unique_ptr<sandbox::Slot>> idle;
  std::size_t starting = 0;
  std::size_t waiting = 0;  // jobs waiting for a slot that is starting
  bool primed = false;      // kept at its minimum for good
  std::vector<sys::Fd> holds;  // leases on what the slots mount
  DecayingRate rate;
  Clock::time_point last_demand{};
  Clock::time_point retry_at{};
  unsigned failures_in_a_row = 0;
  double refill_ms = 0;
  std::uint64_t slot_bytes = kGuessSlotBytes;
  std::uint64_t hits = 0, misses = 0, started = 0, failed = 0, shrunk = 0;

  std::uint32_t target(Clock::time_point now, milliseconds idle_after) const {
    return target_idle(rate.at(now), refill_ms / 1000.0, bounds, now - last_demand > idle_after);
  }
};

Result<std::map<std::string, Bounds, std::less<>>> parse_pool_flag(std::string_view text) {
  std::map<std::string, Bounds, std::less<>> out;
  if (text == "none" || text.empty()) return out;
  auto number = [](std::string_view s, std::uint32_t& v) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    return ec == std::errc() && p == s.data() + s.size() && !s.empty();
  };
  while (!text.empty()) {
    const auto comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    const auto eq = item.find('=');
    const auto bad = [&](std::string_view why) {
      return fail(ErrorCode::invalid_argument, "--pool '" + std::string(item) + "': " + std::string(why) +
                                                   " (expected RUNTIME=MIN..MAX, e.g. python=2..16)");
    };
    if (eq == std::string_view::npos || eq == 0) return bad("no runtime");
    const std::string_view range = item.substr(eq + 1);
    const auto dots = range.find("..");
    Bounds b;
    if (dots == std::string_view::npos) {
      if (!number(range, b.min)) return bad("not a number");
      b.max = b.min;
    } else if (!number(range.substr(0, dots), b.min) || !number(range.substr(dots + 2), b.max)) {
      return bad("not a number");
    }
    if (b.max < b.min) return bad("max is below min");
    if (b.max > 256) return bad("at most 256 slots per pool");
    out[std::string(item.substr(0, eq))] = b;
  }
  return out;
}

Pools::Pools(sandbox::Backend& backend, PoolConfig config) : backend_(backend), config_(std::move(config)) {
  const unsigned refill = config_.refill_threads ? config_.refill_threads
                                                 : std::max(2u, std::thread::hardware_concurrency());
  for (unsigned i = 0; i < refill; ++i) threads_.emplace_back([this](std::stop_token st) { refill_loop(st); });
  for (unsigned i = 0; i < std::max(1u, refill / 2); ++i)
    threads_.emplace_back([this](std::stop_token st) { reap_loop(st); });
}

Pools::~Pools() {
  for (auto& t : threads_) t.request_stop();
  wake_refill_.notify_all();
  wake_reaper_.notify_all();
  threads_.clear();  // joins; the reaper destroyed what was spent
  std::lock_guard lock(mu_);
  keys_.clear();  // every idle slot: killed, its cgroup, mounts and files removed
  spent_.clear();
}

Pools::Key& Pools::key_for(std::string_view runtime, const SandboxSpec& slot) {
  auto id = slot_key(runtime, slot);
  auto it = keys_.find(id);
  if (it != keys_.end()) return *it->second;
  auto key = std::make_unique<Key>();
  sys::Sha256 digest;
  digest.update(id);
  key->id = digest.hex().substr(0, 12);
  key->runtime = std::string(runtime);
  key->service = service_of(slot);
  key->spec = slot;
  key->bounds = config_.runtimes.find(runtime)->second;
  return *keys_.emplace(std::move(id), std::move(key)).first->second;
}

void Pools::prime(std::string_view runtime, const SandboxSpec& slot) {
  if (!serves(runtime)) return;
  std::lock_guard lock(mu_);
  Key& key = key_for(runtime, slot);
  key.last_demand = Clock::now();
  key.primed = true;
  wake_refill_.notify_all();
}

Result<ExecutionResult> Pools::run(std::string_view runtime, const SandboxSpec& slot, sandbox::Job job,
                                   const SandboxSpec& cold, std::stop_token stop,
                                   const sandbox::OutputSink& sink, std::vector<sys::Fd> holds) {
  if (!serves(runtime)) return backend_.run(cold, stop, sink);
  std::unique_ptr<sandbox::Slot> warm;
  {
    std::unique_lock lock(mu_);
    Key& key = key_for(runtime, slot);
    if (key.holds.empty()) key.holds = std::move(holds);
    const auto now = Clock::now();
    key.rate.arrive(now);
    key.last_demand = now;
    wake_refill_.notify_all();
    // A slot that is starting now is ready sooner than a cold start would be, and a cold start
    // on top of it would only take CPU from it: wait for it (one job per starting slot), at
    // most about as long as a start takes.
    if (key.idle.empty() && key.waiting < key.starting) {
      ++key.waiting;
      const auto patience = std::chrono::milliseconds(static_cast<long>(std::min(2 * key.refill_ms + 5, 250.0)));
      slot_ready_.wait_for(lock, stop, patience, [&] { return !key.idle.empty(); });
      --key.waiting;
    }
    if (!key.idle.empty() && sandbox::job_is_encodable(job)) {
      warm = take_idle(key);
      ++key.hits;
    } else {
      ++key.misses;
    }
  }
  if (!warm) return backend_.run(cold, stop, sink);
  auto result = warm->run(std::move(job), stop, sink);
  retire(std::move(warm));
  // The bootstrap died while idle (nothing of the job ran): the job runs cold.
  if (!result && result.error().code == ErrorCode::unavailable) {
    spdlog::warn("warm {} slot unusable ({}); running cold", runtime, result.error().message);
    return backend_.run(cold, stop, sink);
  }
  return result;
}

std::unique_ptr<sandbox::Slot> Pools::take_idle(Key& key) {
  auto slot = std::move(key.idle.front());
  key.idle.pop_front();
  idle_memory_ -= std::min(idle_memory_, slot->resident_bytes());
  return slot;
}

Pools::Key* Pools::next_to_refill(Clock::time_point now) {
  Key* best = nullptr;
  std::uint32_t best_gap = 0;
  for (auto& [id, key] : keys_) {
    if (now < key->retry_at) continue;
    const std::size_t have = key->idle.size() + key->starting;
    const std::uint32_t want = key->target(now, config_.idle_after);
    if (have >= want) continue;
    if (idle_memory_ + key->slot_bytes * (key->starting + 1) > config_.memory_budget_bytes) continue;
    const auto gap = static_cast<std::uint32_t>(want - have);
    if (gap > best_gap) {
      best = key.get();
      best_gap = gap;
    }
  }
  return best;
}

void Pools::trim(Clock::time_point now) {
  for (auto it = keys_.begin(); it != keys_.end();) {
    Key& key = *it->second;
    // Slots are dear to start and cheap to hold: a pool shrinks (to its minimum) only after
    // `idle_after` without demand, not whenever the demand estimate dips.
    // A forgotten key goes with all its slots (only those above its minimum count as shrunk).
    const bool idle = now - key.last_demand > config_.idle_after;
    const bool forgotten = now - key.last_demand > config_.forget_after && !key.primed;
    const std::size_t keep = forgotten ? 0 : idle ? key.bounds.min : key.idle.size();
    while (key.idle.size() > keep) {
      if (key.idle.size() > key.bounds.min) ++key.shrunk;
      spent_.push_back(take_idle(key));
    }
    if (forgotten && key.starting == 0 && key.waiting == 0) {
      it = keys_.erase(it);
    } else {
      ++it;
    }
  }
  if (!spent_.empty()) wake_reaper_.notify_all();
}

void Pools::refill_loop(std::stop_token stop) {
  std::unique_lock lock(mu_);
  while (!stop.stop_requested()) {
    const auto now = Clock::now();
    trim(now);
    Key* key = next_to_refill(now);
    if (!key) {
      // Re-evaluated now and then: demand decays and idle pools shrink without any event.
      wake_refill_.wait_for(lock, stop, std::chrono::milliseconds(200), [] { return false; });
      continue;
    }
    ++key->starting;
    const SandboxSpec spec = key->spec;
    lock.unlock();
    const auto t0 = Clock::now();
    auto slot = backend_.start(spec);
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    lock.lock();
    // Keys are erased only when nothing is starting for them: `key` is still valid.
    --key->starting;
    if (!slot) {
      ++key->failed;
      const unsigned n = std::min(key->failures_in_a_row++, kMaxBackoffDoublings);
      key->retry_at = Clock::now() + kFailureBackoff * (1u << n);
      if ((key->failures_in_a_row & (key->failures_in_a_row - 1)) == 0)  // 1st, 2nd, 4th, 8th ...
        spdlog::warn("warm {} slot failed to start ({} in a row; discarded, cold starts meanwhile): {}",
                     key->runtime, key->failures_in_a_row, slot.error().message);
      continue;
    }
    key->failures_in_a_row = 0;
    ++key->started;
    key->refill_ms = key->refill_ms == 0 ? ms : 0.8 * key->refill_ms + 0.2 * ms;
    if ((*slot)->resident_bytes()) key->slot_bytes = (*slot)->resident_bytes();
    idle_memory_ += (*slot)->resident_bytes();
    key->idle.push_back(std::move(*slot));
    slot_ready_.notify_all();
  }
}

void Pools::retire(std::unique_ptr<sandbox::Slot> slot) {
  {
    std::lock_guard lock(mu_);
    spent_.push_back(std::move(slot));
  }
  wake_reaper_.notify_one();
}

void Pools::reap_loop(std::stop_token stop) {
  std::unique_lock lock(mu_);
  for (;;) {
    wake_reaper_.wait(lock, stop, [&] { return !spent_.empty(); });
    if (spent_.empty()) return;  // stop requested, nothing left to reap
    auto slot = std::move(spent_.front());
    spent_.pop_front();
    lock.unlock();
    slot.reset();  // kills what is left, removes the cgroup, mounts and files
    lock.lock();
  }
}

PoolsStatus Pools::status() const {
  std::lock_guard lock(mu_);
  PoolsStatus s;
  s.idle_memory_bytes = idle_memory_;
  s.memory_budget_bytes = config_.memory_budget_bytes;
  const auto now = Clock::now();
  for (const auto& [id, key] : keys_) {
    s.keys.push_back({key->id, key->runtime, key->service, key->spec.limits.memory_bytes, key->idle.size(), key->starting,
                      key->target(now, config_.idle_after), key->hits, key->misses, key->started,
                      key->failed, key->shrunk, key->refill_ms, key->rate.at(now)});
  }
  return s;
}

}  // namespace ignite::pool
