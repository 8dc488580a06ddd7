// The services under --services DIR, loaded once and reloaded only when something on disk
// changed: lookup by name (validated: no traversal), the listing with what is invalid and why,
// and the last run of each for GET /services/:name.
#pragma once
#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "config/service_config.hpp"
#include "engine/job.hpp"
#include "core/result.hpp"
#include "api/request_error.hpp"
#include "api/requests.hpp"

namespace ignite::runner {

// A service directory that cannot be served, and why (paths relative to the services root).
struct InvalidService {
  std::string directory;  // the subdirectory's name
  std::string name;       // the service name, when service.yaml declared a valid one
  std::string error;
};

class ServiceIndex {
 public:
  // `recheck`: how old what was read from disk may get before the next lookup stats the
  // directories again (nothing is re-read unless a stat changed).
  explicit ServiceIndex(std::filesystem::path root, config::EnvLookup env = config::process_env(),
                        std::chrono::milliseconds recheck = std::chrono::seconds(1));
  ~ServiceIndex();
  ServiceIndex(const ServiceIndex&) = delete;
  ServiceIndex& operator=(const ServiceIndex&) = delete;

  // Every servable service, sorted by name: valid, and its name declared by one directory only.
  std::vector<config::ServiceConfig> list() const;

  // Directories with a service.yaml that cannot be served: invalid, or a name declared twice.
  std::vector<InvalidService> invalid() const;

  // The body of GET /services: {"services":[summary...], "invalid":[{directory,name?,error}]}.
  nlohmann::json listing() const;

  // The service called `name`: 400 when the name cannot be a service name (this is what stops
  // "../" in any encoding), 404 when no directory holds it, 409 when two directories declare
  // it (both named), 422 when the directory named like it has an invalid service.yaml.
  api::Decoded<config::ServiceConfig> find(const std::string& name) const;

  // For start-up: fails (invalid_argument) naming every directory of the first name declared
  // by more than one directory.
  Status check_unique_names() const;

  void record_run(const std::string& name, const engine::JobReport& report);
  nlohmann::json last_run(const std::string& name) const;  // null when it never ran

  struct Snapshot;  // what one look at the disk found (opaque; defined in the .cpp)

 private:
  // What is on disk now: the last snapshot when no stat changed within `recheck_`, else a new
  // one that reloads only the directories whose stats changed.
  std::shared_ptr<const Snapshot> current() const;

  std::filesystem::path root_;
  config::EnvLookup env_;
  std::chrono::milliseconds recheck_;

  mutable std::mutex refresh_mu_;  // one refresh at a time; readers keep the old snapshot
  mutable std::mutex mu_;          // the fields below
  mutable std::shared_ptr<const Snapshot> snapshot_;
  mutable std::chrono::steady_clock::time_point checked_{};
  std::map<std::string, nlohmann::json> last_runs_;
};

// {"name","runtime","entry","memoryMb","timeoutMs"}: the /services listing entry.
nlohmann::json service_summary(const config::ServiceConfig& service);

}  // namespace ignite::runner
