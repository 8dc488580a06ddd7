#include "server/service_index.hpp"

#include <algorithm>

namespace ignite::server {

namespace fs = std::filesystem;

std::vector<config::ServiceConfig> ServiceIndex::list() const {
  std::vector<config::ServiceConfig> out;
  if (root_.empty()) return out;
  std::error_code ec;
  for (fs::directory_iterator it(root_, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_directory(ec)) continue;
    if (!fs::exists(it->path() / "service.yaml", ec) && !fs::exists(it->path() / "service.yml", ec))
      continue;
    auto service = config::load_service(it->path(), config::process_env());
    if (service) out.push_back(std::move(*service));
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

Decoded<config::ServiceConfig> ServiceIndex::find(const std::string& name) const {
  // Security: the name comes from the URL (already percent-decoded by the HTTP layer). The
  // service-name grammar has no '/', '.', '\\' or NUL, so a valid name can never leave root_.
  if (!config::valid_service_name(name)) return bad_request("invalid service name");
  if (root_.empty()) return not_found("no service named '" + name + "' (no --services directory)");
  // Fast path: the directory named like the service (the usual layout).
  std::error_code ec;
  const fs::path direct = root_ / name;
  if (fs::is_directory(direct, ec)) {
    auto service = config::load_service(direct, config::process_env());
    if (service && service->name == name) return std::move(*service);
    if (!service && (fs::exists(direct / "service.yaml", ec) || fs::exists(direct / "service.yml", ec)))
      return unprocessable("service '" + name + "': " + service.error().message);
  }
  for (auto& s : list()) {
    if (s.name == name) return std::move(s);
  }
  return not_found("no service named '" + name + "'");
}

void ServiceIndex::record_run(const std::string& name, nlohmann::json summary) {
  std::lock_guard lock(mu_);
  last_runs_[name] = std::move(summary);
}

nlohmann::json ServiceIndex::last_run(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = last_runs_.find(name);
  return it == last_runs_.end() ? nlohmann::json(nullptr) : it->second;
}

nlohmann::json service_summary(const config::ServiceConfig& s) {
  return {{"name", s.name},           {"runtime", s.runtime.to_string()}, {"entry", s.entry},
          {"memoryMb", s.memory_mb},  {"timeoutMs", s.timeout_ms}};
}

}  // namespace ignite::server
