#include "cli/pool_flags.hpp"

#include "cli/common.hpp"
#include "config/pool_file.hpp"

namespace ignite::cli {

void add_pool_flags(CLI::App* cmd, PoolFlags& o) {
  auto* pool_flag = cmd->add_option("--pool", o.pool,
                  "Warm pools: RUNTIME=MIN..MAX[,...] idle slots per kind of run, grown with demand; 'none': cold starts only")
      ->capture_default_str();
  auto* memory = cmd->add_option("--pool-memory-mb", o.memory_mb, "Memory all idle warm slots together may hold")
      ->capture_default_str();
  auto* idle = cmd->add_option("--pool-idle-s", o.idle_s, "Seconds without demand after which a pool shrinks to its minimum")
      ->capture_default_str();
  cmd->add_option("--pool-config", o.config,
                  "The pools as a YAML file (pools: {python: 2..16}, memoryMb, idleSeconds) instead of the --pool flags")
      ->excludes(pool_flag)->excludes(idle)->excludes(memory);
}

Result<pool::PoolConfig> pool_config(const PoolFlags& o) {
  pool::PoolConfig c;
  c.memory_budget_bytes = std::uint64_t{o.memory_mb} << 20;
  c.idle_after = std::chrono::seconds(o.idle_s);
  if (o.config.empty()) {
    IGNITE_TRY_ASSIGN(c.runtimes, pool::parse_pool_flag(o.pool));
    return c;
  }
  IGNITE_TRY_ASSIGN(config::PoolFile file, config::load_pool_file(o.config));
  for (const auto& [name, bounds] : file.runtimes) c.runtimes[name] = {bounds.first, bounds.second};
  if (file.memory_mb) c.memory_budget_bytes = std::uint64_t{*file.memory_mb} << 20;
  if (file.idle_seconds) c.idle_after = std::chrono::seconds(*file.idle_seconds);
  return c;
}

Result<HostEngine> make_pooled_engine(HostOptions options, const PoolFlags& flags,
                                      std::uint32_t default_memory_mb, std::uint32_t default_timeout_ms) {
  IGNITE_TRY_ASSIGN(options.pools, pool_config(flags));
  // A microVM's warm slot is a whole VM (its RAM, and under emulation a share of a core while
  // it idles): its pools are the ones named (--pool, --pool-config), never the defaults.
  // Without them a server still restores each VM from a template of its shape.
  if (options.isolation == "microvm") {
    const bool named = !flags.config.empty() || flags.pool != PoolFlags{}.pool;
    if (!named) options.pools.reset();
  }
  options.vm_templates = true;  // a server's microVMs after the first of each shape skip the boot
  IGNITE_TRY_ASSIGN(HostEngine host, make_engine(options));
  engine::AdhocRequest shape;  // the defaults a request gets: their pools start now
  shape.memory_mb = default_memory_mb;
  shape.timeout_ms = default_timeout_ms;
  host.engine->prime_pools(shape);
  return host;
}

Result<TransportHost> make_transport_host(const std::string& services_dir, const PoolFlags& pools,
                                          const api::AdhocLimits& limits, bool allow_degraded,
                                          const std::string& isolation) {
  TransportHost t;
  if (!services_dir.empty()) {
    t.services = std::make_unique<runner::ServiceIndex>(services_dir);
    IGNITE_TRY(check_services(*t.services, services_dir));
  }
  HostOptions options;
  options.allow_degraded = allow_degraded;
  if (!isolation.empty()) options.isolation = isolation;
  options.max_memory_mb = limits.max_memory_mb;
  options.max_timeout_ms = limits.max_timeout_ms;
  IGNITE_TRY_ASSIGN(t.host, make_pooled_engine(options, pools, limits.default_memory_mb, limits.default_timeout_ms));
  return t;
}

}  // namespace ignite::cli
