// The warm-pool flags `ignite serve` and `ignite worker` share: --pool, --pool-memory-mb,
// --pool-idle-s, or --pool-config FILE instead of them.
#pragma once
#include <cstdint>
#include <string>

#include <CLI/CLI.hpp>

#include "api/requests.hpp"
#include "cli/common.hpp"
#include "core/result.hpp"
#include "pool/pools.hpp"

namespace ignite::cli {

struct PoolFlags {
  std::string pool = "python=1..8,node=1..8,bun=1..8,deno=0..4,go=0..4";
  std::uint32_t memory_mb = 1024;
  std::uint32_t idle_s = 30;
  std::string config;  // the same as a file (config/pool_file.hpp)
};

void add_pool_flags(CLI::App* cmd, PoolFlags& flags);
Result<pool::PoolConfig> pool_config(const PoolFlags& flags);

// The engine of a long-running process (serve, worker): `options` with the pools of `flags`,
// and the pools for ad-hoc code with the default limits started at once.
Result<HostEngine> make_pooled_engine(HostOptions options, const PoolFlags& flags,
                                      std::uint32_t default_memory_mb, std::uint32_t default_timeout_ms);

// What `ignite worker` and `ignite mcp` run on: the services under `services_dir` (none when
// it is empty; checked, invalid ones logged) and a pooled engine within `limits`.
struct TransportHost {
  std::unique_ptr<runner::ServiceIndex> services;
  HostEngine host;
};
Result<TransportHost> make_transport_host(const std::string& services_dir, const PoolFlags& pools,
                                          const api::AdhocLimits& limits, bool allow_degraded,
                                          const std::string& isolation);

}  // namespace ignite::cli
