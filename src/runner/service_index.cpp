#include "runner/service_index.hpp"

#include <sys/stat.h>
#include <time.h>

#include <algorithm>
#include <array>
#include <optional>

#include "api/result_json.hpp"

namespace ignite::runner {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// What stat says about one path; equal stamps mean "not changed" (a rewrite changes mtime,
// ctime or size; a replacement by rename changes the inode).
struct FileStamp {
  bool exists = false;
  dev_t dev = 0;
  ino_t ino = 0;
  off_t size = 0;
  std::int64_t mtime_ns = 0;
  std::int64_t ctime_ns = 0;
  friend bool operator==(const FileStamp&, const FileStamp&) = default;
};

FileStamp stamp_of(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return {};
  const auto ns = [](const timespec& t) {
    return std::int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec;
  };
  return {true, st.st_dev, st.st_ino, st.st_size, ns(st.st_mtim), ns(st.st_ctim)};
}

// The clock inode timestamps are taken from (the coarse real-time clock, one tick behind the
// precise one), in ns.
std::int64_t coarse_now_ns() {
  timespec t{};
  ::clock_gettime(CLOCK_REALTIME_COARSE, &t);
  return std::int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec;
}

// A stamp taken in the same clock tick as the read it vouches for proves nothing: a second
// write in that tick (same size) would keep every field. Such "racy" stamps are not trusted;
// the next check reads again (git's racy-index rule).
bool stamp_racy(const FileStamp& s, std::int64_t read_started_ns) {
  return s.exists && (s.mtime_ns >= read_started_ns || s.ctime_ns >= read_started_ns);
}

// Everything load_service reads in a service directory. The directory itself covers files
// added, removed or renamed in it (a swapped entry file or symlink).
constexpr std::array<const char*, 4> kWatched = {"service.yaml", "service.yml", "package.json",
                                                 "requirements.txt"};

struct DirStamp {
  FileStamp dir;
  std::array<FileStamp, kWatched.size()> files;
  bool has_config() const { return files[0].exists || files[1].exists; }
  bool racy(std::int64_t read_started_ns) const {
    if (stamp_racy(dir, read_started_ns)) return true;
    for (const FileStamp& f : files) {
      if (stamp_racy(f, read_started_ns)) return true;
    }
    return false;
  }
  friend bool operator==(const DirStamp&, const DirStamp&) = default;
};

DirStamp dir_stamp(const fs::path& dir) {
  DirStamp s{stamp_of(dir), {}};
  for (std::size_t i = 0; i < kWatched.size(); ++i) s.files[i] = stamp_of(dir / kWatched[i]);
  return s;
}

void replace_all(std::string& text, const std::string& from, const std::string& to) {
  if (from.empty()) return;
  for (std::size_t at = text.find(from); at != std::string::npos;
       at = text.find(from, at + to.size()))
    text.replace(at, from.size(), to);
}

api::RequestError conflict(std::string message) { return {409, "conflict", std::move(message)}; }

}  // namespace

namespace detail {

// One subdirectory of the root as last loaded. Immutable once built: snapshots share entries
// that did not change.
struct IndexEntry {
  std::string directory;
  DirStamp stamp;
  bool racy = false;                             // stamp too fresh to prove "unchanged"
  std::optional<config::ServiceConfig> service;  // set when service.yaml is valid
  std::string error;                             // set when it is not
};

}  // namespace detail

using Entry = detail::IndexEntry;

struct ServiceIndex::Snapshot {
  FileStamp root;
  bool root_racy = false;
  std::vector<std::shared_ptr<const Entry>> entries;   // every subdirectory, sorted by name
  std::map<std::string, const Entry*> by_name;         // valid and unique
  std::map<std::string, std::string> conflicts;        // name -> who declares it
  std::map<std::string, const Entry*> invalid_by_dir;  // invalid service.yaml, by directory
};

namespace {

// Loads one directory. Messages name paths relative to the root: they reach HTTP clients,
// who must not learn the host's layout.
std::shared_ptr<const Entry> load_entry(const fs::path& root, const std::string& directory,
                                        DirStamp stamp, std::int64_t read_started_ns,
                                        const config::EnvLookup& env) {
  auto entry = std::make_shared<Entry>(
      Entry{directory, stamp, stamp.racy(read_started_ns), std::nullopt, {}});
  if (!stamp.has_config()) return entry;  // not a service directory: never listed
  const fs::path dir = root / directory;
  auto loaded = config::load_service(dir, env);
  if (loaded) {
    entry->service = std::move(*loaded);
    return entry;
  }
  std::string message = loaded.error().message;
  std::error_code ec;
  const fs::path canonical_dir = fs::canonical(dir, ec);
  if (!ec) replace_all(message, canonical_dir.string(), directory);
  if (const fs::path canonical_root = fs::canonical(root, ec); !ec)
    replace_all(message, canonical_root.string() + "/", "");
  replace_all(message, dir.string(), directory);
  entry->error = std::move(message);
  return entry;
}

// The subdirectories of `root` by name (symlinks to directories count, as they always did).
std::vector<std::string> subdirectories(const fs::path& root) {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
    std::error_code type_ec;
    if (it->is_directory(type_ec)) out.push_back(it->path().filename().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

ServiceIndex::ServiceIndex(fs::path root, config::EnvLookup env, std::chrono::milliseconds recheck)
    : root_(std::move(root)), env_(std::move(env)), recheck_(recheck) {}

ServiceIndex::~ServiceIndex() = default;

std::shared_ptr<const ServiceIndex::Snapshot> ServiceIndex::current() const {
  const auto fresh = [&] { return snapshot_ && Clock::now() - checked_ < recheck_; };
  {
    std::lock_guard lock(mu_);
    if (fresh()) return snapshot_;
  }
  std::lock_guard refreshing(refresh_mu_);
  std::shared_ptr<const Snapshot> old;
  {
    std::lock_guard lock(mu_);
    if (fresh()) return snapshot_;  // another thread refreshed while we waited
    old = snapshot_;
  }

  // Stat everything (cheap); re-read only what changed. The root's own stamp says whether
  // subdirectories came or went; each subdirectory's says whether its files changed.
  const std::int64_t started = coarse_now_ns();  // before any stat: see racy()
  auto next = std::make_shared<Snapshot>();
  next->root = stamp_of(root_);
  next->root_racy = stamp_racy(next->root, started);
  const bool same_root = old && !old->root_racy && old->root == next->root && next->root.exists;
  std::vector<std::string> names;
  if (same_root) {
    for (const auto& e : old->entries) names.push_back(e->directory);
  } else if (!root_.empty()) {
    names = subdirectories(root_);
  }
  bool changed = !same_root;
  std::size_t o = 0;  // both lists are sorted by directory
  for (const std::string& name : names) {
    while (old && o < old->entries.size() && old->entries[o]->directory < name) ++o;
    const Entry* before = old && o < old->entries.size() && old->entries[o]->directory == name
                              ? old->entries[o].get()
                              : nullptr;
    DirStamp stamp = dir_stamp(root_ / name);
    if (before != nullptr && !before->racy && before->stamp == stamp) {
      next->entries.push_back(old->entries[o]);
    } else {
      next->entries.push_back(load_entry(root_, name, stamp, started, env_));
      changed = true;
    }
  }
  if (!changed) {
    std::lock_guard lock(mu_);
    checked_ = Clock::now();
    return snapshot_;
  }

  // Names: a name declared by two directories is served by neither (directory order must
  // not decide which code runs); both are named in the error.
  std::map<std::string, std::vector<const Entry*>> declared;
  for (const auto& e : next->entries) {
    if (e->service)
      declared[e->service->name].push_back(e.get());
    else if (!e->error.empty())
      next->invalid_by_dir[e->directory] = e.get();
  }
  for (const auto& [name, dirs] : declared) {
    if (dirs.size() == 1) {
      next->by_name[name] = dirs.front();
      continue;
    }
    std::string where;
    for (std::size_t i = 0; i < dirs.size(); ++i) {
      where += (i == 0 ? "" : i + 1 == dirs.size() ? " and " : ", ") + dirs[i]->directory;
    }
    next->conflicts[name] = "service name '" + name + "' is declared by more than one directory (" +
                            where + "); names must be unique: rename all but one";
  }

  std::lock_guard lock(mu_);
  snapshot_ = std::move(next);
  checked_ = Clock::now();
  return snapshot_;
}

namespace {

std::vector<config::ServiceConfig> services_of(const ServiceIndex::Snapshot& snap) {
  std::vector<config::ServiceConfig> out;
  out.reserve(snap.by_name.size());
  for (const auto& [name, entry] : snap.by_name) out.push_back(*entry->service);
  return out;  // by_name is ordered: sorted by name
}

std::vector<InvalidService> invalid_of(const ServiceIndex::Snapshot& snap) {
  std::vector<InvalidService> out;
  for (const auto& e : snap.entries) {
    if (!e->error.empty()) {
      out.push_back({e->directory, "", e->error});
    } else if (e->service) {
      auto c = snap.conflicts.find(e->service->name);
      if (c != snap.conflicts.end()) out.push_back({e->directory, e->service->name, c->second});
    }
  }
  return out;
}

}  // namespace

std::vector<config::ServiceConfig> ServiceIndex::list() const { return services_of(*current()); }

std::vector<InvalidService> ServiceIndex::invalid() const { return invalid_of(*current()); }

nlohmann::json ServiceIndex::listing() const {
  const auto snap = current();  // one snapshot for both lists
  nlohmann::json services = nlohmann::json::array();
  for (const auto& s : services_of(*snap)) services.push_back(service_summary(s));
  nlohmann::json invalid_list = nlohmann::json::array();
  for (const auto& bad : invalid_of(*snap)) {
    // Security: directory names and YAML errors quote bytes from the service directory; one
    // invalid UTF-8 byte would make the whole listing fail to serialize.
    nlohmann::json item = {{"directory", api::sanitize_utf8(bad.directory)},
                           {"error", api::sanitize_utf8(bad.error)}};
    if (!bad.name.empty()) item["name"] = bad.name;
    invalid_list.push_back(std::move(item));
  }
  return {{"services", std::move(services)}, {"invalid", std::move(invalid_list)}};
}

api::Decoded<config::ServiceConfig> ServiceIndex::find(const std::string& name) const {
  // Security: the name comes from the URL (already percent-decoded by the HTTP layer). The
  // service-name grammar has no '/', '.', '\\' or NUL, so a valid name can never leave root_.
  if (!config::valid_service_name(name)) return api::bad_request("invalid service name");
  if (root_.empty()) return api::not_found("no service named '" + name + "' (no --services directory)");
  const auto snap = current();
  if (auto c = snap->conflicts.find(name); c != snap->conflicts.end()) return conflict(c->second);
  if (auto it = snap->by_name.find(name); it != snap->by_name.end()) return *it->second->service;
  // The usual layout names the directory like the service: its errors are this service's.
  if (auto it = snap->invalid_by_dir.find(name); it != snap->invalid_by_dir.end())
    return api::unprocessable("service '" + name + "': " + it->second->error);
  return api::not_found("no service named '" + name + "'");
}

Status ServiceIndex::check_unique_names() const {
  const auto snap = current();
  if (snap->conflicts.empty()) return ok();
  return fail(ErrorCode::invalid_argument, snap->conflicts.begin()->second);
}

void ServiceIndex::record_run(const std::string& name, const engine::JobReport& report) {
  // The last-run summary kept for GET /services/:name.
  const auto& r = report.result;
  nlohmann::json summary = {{"status", std::string(status_name(r.outcome, r.exit_code))},
                            {"success", r.outcome == Outcome::exited && r.exit_code == 0},
                            {"runtime", report.runtime},
                            {"executionTimeMs", static_cast<double>(r.usage.wall.count()) / 1000.0},
                            {"memoryPeakBytes", r.usage.peak_memory_bytes}};
  std::lock_guard lock(mu_);
  last_runs_[name] = std::move(summary);
}

nlohmann::json ServiceIndex::last_run(const std::string& name) const {
  std::lock_guard lock(mu_);
  auto it = last_runs_.find(name);
  return it == last_runs_.end() ? nlohmann::json(nullptr) : it->second;
}

nlohmann::json service_summary(const config::ServiceConfig& s) {
  return {{"name", s.name},
          {"runtime", s.runtime.to_string()},
          {"entry", s.entry},
          {"memoryMb", s.memory_mb},
          {"timeoutMs", s.timeout_ms}};
}

}  // namespace ignite::runner
