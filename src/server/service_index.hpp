// The services under --services DIR: lookup by name (validated: no traversal), listing, and the
// last run of each for GET /services/:name.
#pragma once
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/service_config.hpp"
#include "server/http_error.hpp"
#include "server/requests.hpp"

namespace ignite::server {

class ServiceIndex {
 public:
  explicit ServiceIndex(std::filesystem::path root) : root_(std::move(root)) {}

  // Every subdirectory with a valid service.yaml, sorted by name (invalid ones are skipped).
  std::vector<config::ServiceConfig> list() const;

  // The service called `name`: 400 when the name cannot be a service name (this is what stops
  // "../" in any encoding), 404 when no directory holds it, 422 when its service.yaml is invalid.
  Decoded<config::ServiceConfig> find(const std::string& name) const;

  void record_run(const std::string& name, nlohmann::json summary);
  nlohmann::json last_run(const std::string& name) const;  // null when it never ran

 private:
  std::filesystem::path root_;
  mutable std::mutex mu_;
  std::map<std::string, nlohmann::json> last_runs_;
};

// {"name","runtime","entry","memoryMb","timeoutMs"}: the /services listing entry.
nlohmann::json service_summary(const config::ServiceConfig& service);

}  // namespace ignite::server
