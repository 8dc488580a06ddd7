// The warm pools' state for operators: Prometheus lines for /metrics and JSON for /v1/pools.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "pool/pools.hpp"

namespace ignite::server {

std::string render_pool_metrics(const pool::PoolsStatus& status);
nlohmann::json pools_json(const pool::PoolsStatus& status);

}  // namespace ignite::server
