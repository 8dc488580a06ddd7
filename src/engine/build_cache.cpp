#include "engine/build_cache.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>

#include <algorithm>
#include <sstream>
#include <vector>

#include <spdlog/spdlog.h>

#include "sys/files.hpp"
#include "sys/owned_dir.hpp"
#include "sys/random.hpp"
#include "sys/temp_dir.hpp"
#include "sys/tree.hpp"

namespace ignite::engine {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kMagic = "ignite-artifact 2";

// What an entry costs on disk: its bytes, and an inode and (for dirs) a block per entry — a tree
// of empty files or dirs is not free.
std::uint64_t cost_of(const FileTree& tree) { return tree.bytes + 4096 * tree.entries.size(); }

// "<len>:<bytes>" at `pos`; advances past it. nullopt when malformed.
std::optional<std::string> read_framed(const std::string& text, std::size_t& pos) {
  const auto colon = text.find(':', pos);
  if (colon == std::string::npos || colon == pos || colon - pos > 12) return std::nullopt;
  const std::string digits = text.substr(pos, colon - pos);
  if (digits.find_first_not_of("0123456789") != std::string::npos) return std::nullopt;
  const auto len = std::stoull(digits);
  if (colon + 1 + len > text.size()) return std::nullopt;
  pos = colon + 1 + len;
  return text.substr(colon + 1, len);
}

std::string serialize(const FileTree& tree, const std::string& signature) {
  std::string out = std::string(kMagic) + " " + std::to_string(cost_of(tree)) + " " + signature + "\n";
  for (const auto& e : tree.entries) {
    switch (e.kind) {
      case EntryKind::dir: out += "d " + framed(e.path); break;
      case EntryKind::symlink: out += "l " + framed(e.path) + " " + framed(e.link); break;
      case EntryKind::file:
        out += "f " + framed(e.path) + " " + std::to_string(e.size) + " " + (e.executable ? "1 " : "0 ") + e.digest;
        break;
    }
    out += "\n";
  }
  return out;
}

struct Manifest {
  FileTree tree;
  std::string signature;
};

std::optional<Manifest> parse(const std::string& text) {
  Manifest m;
  std::istringstream head(text.substr(0, text.find('\n')));
  std::string magic, version;
  std::uint64_t cost = 0;
  if (!(head >> magic >> version >> cost >> m.signature) || magic + " " + version != kMagic)
    return std::nullopt;
  std::size_t pos = text.find('\n') + 1;
  while (pos < text.size()) {
    FileEntry e;
    const char kind = text[pos];
    pos += 2;
    auto path = read_framed(text, pos);
    if (!path) return std::nullopt;
    e.path = *path;
    if (kind == 'd') {
      e.kind = EntryKind::dir;
    } else if (kind == 'l') {
      e.kind = EntryKind::symlink;
      ++pos;
      auto link = read_framed(text, pos);
      if (!link) return std::nullopt;
      e.link = *link;
    } else if (kind == 'f') {
      e.kind = EntryKind::file;
      std::istringstream rest(text.substr(pos, text.find('\n', pos) - pos));
      int x = 0;
      if (!(rest >> e.size >> x >> e.digest)) return std::nullopt;
      e.executable = x == 1;
      pos = text.find('\n', pos);
    } else {
      return std::nullopt;
    }
    if (pos >= text.size() || text[pos] != '\n') return std::nullopt;
    ++pos;
    if (e.kind == EntryKind::file) m.tree.bytes += e.size;
    m.tree.entries.push_back(std::move(e));
  }
  if (cost != cost_of(m.tree)) return std::nullopt;
  return m;
}

sys::TreeLimits limits_of(const CacheConfig& c) {
  return {c.max_entry_bytes, c.max_entry_files, 128};
}

// Removes an entry (or staging dir) atomically from the cache's view first, then from disk.
void discard(const fs::path& entry, const std::string& prefix) {
  const fs::path gone = entry.parent_path() / (prefix + "discard-" + sys::random_hex(4));
  if (::rename(entry.c_str(), gone.c_str()) != 0) return;
  if (auto removed = sys::remove_tree(gone); !removed) spdlog::warn("cache: {}", removed.error().message);
}

bool is_key(const std::string& name) {
  return name.size() == 64 && name.find_first_not_of("0123456789abcdef") == std::string::npos;
}

}  // namespace

BuildCache::BuildCache(CacheConfig config)
    : config_(std::move(config)), memo_(config_.root / "memo") {}

bool BuildCache::abandoned(const fs::path& dir) const {
  // A build holds its staging dir's lock (exclusively) from mkdtemp to rename: free means dead,
  // whichever runtime dir its Ignite registered in.
  sys::Fd lock(::open((dir / "lock").c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC));
  if (lock) return ::flock(lock.get(), LOCK_EX | LOCK_NB) == 0;
  // No lock file: caught between mkdtemp and creating it, or a discard in progress; only its
  // instance can tell.
  return errno == ENOENT && config_.stale && config_.stale(dir.filename().string());
}

Status BuildCache::prepare(const fs::path& kind_dir) {
  std::lock_guard lock(mu_);
  if (prepared_[kind_dir.string()]) return ok();
  // Security: the cache holds what sandboxes built; nobody else may reach or change it.
  IGNITE_TRY(sys::ensure_owned_dir(config_.root, 0700));
  IGNITE_TRY(sys::ensure_owned_dir(kind_dir, 0700));
  std::error_code ec;
  for (fs::directory_iterator it(kind_dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    // An entry appears by one rename with its lock inside; one without is of an older layout
    // (whose files a sandbox uid owned): never served, so removed.
    std::error_code lock_ec;
    const bool legacy = is_key(name) && !fs::exists(it->path() / "lock", lock_ec) && !lock_ec;
    if (legacy || (!is_key(name) && abandoned(it->path()))) {
      spdlog::info("cache: removing {} ({})", name, legacy ? "an entry of an older layout" : "left by an Ignite that is gone");
      (void)sys::remove_tree(it->path());
    }
  }
  prepared_[kind_dir.string()] = true;
  return ok();
}

namespace {
// A system error (EMFILE, ENOMEM, ...) says nothing about the entry; only these do.
bool says_damaged(const Error& e) { return e.sys_errno == 0 || e.sys_errno == ENOENT || e.sys_errno == ELOOP; }
}  // namespace

Result<std::optional<Artifact>> BuildCache::reuse(const fs::path& entry, const std::string& key) {
  const fs::path lock_path = entry / "lock";
  sys::Fd lock(::open(lock_path.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC));
  if (!lock) return std::optional<Artifact>();
  if (::flock(lock.get(), LOCK_SH) != 0) return fail(Error::from_errno("lock " + lock_path.string()));
  // Evicted while we waited for the lock: the path no longer names the file we hold.
  if (!sys::still_named(lock.get(), lock_path)) return std::optional<Artifact>();
  const fs::path data = entry / "data";
  auto text = sys::read_file(entry / "manifest");
  if (!text && !says_damaged(text.error())) return fail(std::move(text).error());
  std::optional<Manifest> m = text ? parse(*text) : std::nullopt;
  auto signature = sys::stat_signature(data, limits_of(config_));
  if (!signature && !says_damaged(signature.error())) return fail(std::move(signature).error());
  if (!m || !signature || *signature != m->signature) {
    // Something changed since the entry was made (or it cannot be read): the content decides.
    std::string why = !m ? "unreadable manifest" : !signature ? signature.error().message : "";
    if (why.empty()) {
      auto scanned = sys::scan_tree(data, limits_of(config_));
      if (!scanned && !says_damaged(scanned.error())) return fail(std::move(scanned).error());
      if (!scanned) why = scanned.error().message;
      else if (scanned->entries != m->tree.entries) why = "content differs from its manifest";
    }
    if (!why.empty()) {
      // Removed only while nobody else uses it (a run may have its files mounted), and only if
      // it is still the entry we judged.
      if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0 || !sys::still_named(lock.get(), lock_path))
        return fail(ErrorCode::unavailable, "cache entry " + entry.filename().string() +
                                                " is damaged and in use by another run; try again");
      spdlog::warn("cache: entry {} is damaged ({}); rebuilding it", entry.string(), why);
      discard(entry, config_.run_prefix);
      return std::optional<Artifact>();
    }
    // Same content, new inodes or times (restored from a backup, say): remember the new state.
    const fs::path tmp = entry / ("manifest.tmp-" + config_.run_prefix);
    std::error_code ec;
    if (sys::write_new_file(tmp, serialize(m->tree, *signature), 0600)) fs::rename(tmp, entry / "manifest", ec);
    if (ec) fs::remove(tmp, ec);
  }
  ::futimens(lock.get(), nullptr);  // last use, for eviction
  Artifact a;
  a.dir = data;
  a.key = key;
  a.cached = true;
  a.lease = std::move(lock);
  return std::optional<Artifact>(std::move(a));
}

Result<Artifact> BuildCache::get(sandbox::Backend& backend, std::string_view kind, const std::string& lookup,
                                 const StepPlanFn& make_plan, const VerifyFn& verify, std::stop_token stop) {
  const fs::path kind_dir = config_.root / std::string(kind);
  IGNITE_TRY(prepare(kind_dir));
  IGNITE_TRY_ASSIGN(std::optional<Artifact> found, reuse(kind_dir / lookup, lookup));
  if (found) return std::move(*found);
  // The inputs as the step will read them: if they changed since the lookup, their own key.
  IGNITE_TRY_ASSIGN(StepPlan plan, make_plan());
  const std::string& key = plan.key;
  const fs::path entry = kind_dir / key;
  if (key != lookup) {
    IGNITE_TRY_ASSIGN(found, reuse(entry, key));
    if (found) return std::move(*found);
  }

  IGNITE_TRY_ASSIGN(sys::TempDir staging, sys::TempDir::create(kind_dir, config_.run_prefix + "build-"));
  // Held exclusively while we build (so no collector takes the staging dir for abandoned), then
  // shared: it becomes the entry's lock and our lease on it.
  Artifact a;
  a.key = key;
  const fs::path lock_path = staging.path() / "lock";
  a.lease.reset(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!a.lease || ::flock(a.lease.get(), LOCK_EX) != 0) return fail(Error::from_errno("lock " + lock_path.string()));
  const fs::path data = staging.path() / "data";
  if (::mkdir(data.c_str(), 0700) != 0) return fail(Error::from_errno("create " + data.string()));
  SandboxSpec& spec = plan.spec;
  if (!spec.output) spec.output.emplace();
  spec.output->host_dest = data;
  spec.output->max_bytes = config_.max_entry_bytes;
  spec.output->max_entries = config_.max_entry_files;

  IGNITE_TRY_ASSIGN(a.step, backend.run(spec, stop, {}));
  if (a.failed()) return a;
  if (plan.after) IGNITE_TRY(plan.after());
  if (cost_of(a.step->output) > config_.max_entry_bytes)
    return fail(ErrorCode::invalid_argument,
                "the build output is too large to keep: " + std::to_string(a.step->output.bytes) + " bytes in " +
                    std::to_string(a.step->output.entries.size()) + " files and dirs count as " +
                    std::to_string(cost_of(a.step->output)) + " bytes (at most " +
                    std::to_string(config_.max_entry_bytes) + ", IGNITE_CACHE_ENTRY_MAX_MB)");
  IGNITE_TRY(verify(data));
  IGNITE_TRY_ASSIGN(std::string signature, sys::stat_signature(data, limits_of(config_)));
  IGNITE_TRY(sys::write_new_file(staging.path() / "manifest", serialize(a.step->output, signature), 0600));
  // Our lease is shared before the entry is visible, so no eviction can take it from under us.
  if (::flock(a.lease.get(), LOCK_SH) != 0) return fail(Error::from_errno("lock " + lock_path.string()));
  if (::rename(staging.path().c_str(), entry.c_str()) != 0) {
    // Another run made the same entry meanwhile: theirs is as good as ours.
    if (errno != ENOTEMPTY && errno != EEXIST) return fail(Error::from_errno("rename to " + entry.string()));
    a.lease.reset();
    IGNITE_TRY_ASSIGN(std::optional<Artifact> theirs, reuse(entry, key));
    if (theirs) {
      theirs->cached = false;
      theirs->step = std::move(a.step);
      return std::move(*theirs);
    }
    return fail(ErrorCode::unavailable, "cache entry " + std::string(kind) + "/" + key + " changed while it was made");
  }
  staging.release();
  a.dir = entry / "data";
  evict();
  return a;
}

Result<std::shared_ptr<sys::TempDir>> BuildCache::snapshot_dir(std::string_view kind) {
  const fs::path kind_dir = config_.root / std::string(kind);
  IGNITE_TRY(prepare(kind_dir));
  IGNITE_TRY_ASSIGN(sys::TempDir dir, sys::TempDir::create(kind_dir, config_.run_prefix + "src-"));
  // It becomes the step's /app: the sandbox user reads it (the parents stay private).
  if (::chmod(dir.path().c_str(), 0755) != 0) return fail(Error::from_errno("chmod " + dir.path().string()));
  return std::make_shared<sys::TempDir>(std::move(dir));
}

namespace {

struct EntryInfo {
  fs::path dir;
  std::uint64_t cost = 0;  // bytes on disk, see cost_of
  std::int64_t used = 0;  // lock mtime, ns
};

std::vector<EntryInfo> list_entries(const fs::path& root) {
  std::vector<EntryInfo> out;
  std::error_code ec;
  for (fs::directory_iterator k(root, ec), kend; !ec && k != kend; k.increment(ec)) {
    if (!k->is_directory(ec) || k->is_symlink(ec) || k->path().filename() == "memo") continue;
    std::error_code ec2;
    for (fs::directory_iterator e(k->path(), ec2), eend; !ec2 && e != eend; e.increment(ec2)) {
      if (!is_key(e->path().filename().string())) continue;
      EntryInfo info{e->path()};
      // The first line is enough: "ignite-artifact 2 <cost> <signature>".
      sys::Fd fd(::open((e->path() / "manifest").c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
      char head[160] = {};
      if (!fd || ::read(fd.get(), head, sizeof head - 1) <= 0) continue;
      std::istringstream in(head);
      std::string magic, version;
      in >> magic >> version >> info.cost;
      struct stat st {};
      if (::stat((e->path() / "lock").c_str(), &st) == 0)
        info.used = std::int64_t{st.st_mtim.tv_sec} * 1000000000 + st.st_mtim.tv_nsec;
      out.push_back(std::move(info));
    }
  }
  return out;
}

}  // namespace

void BuildCache::evict() {
  std::lock_guard lock(mu_);
  auto entries = list_entries(config_.root);
  std::uint64_t total = 0;
  for (const auto& e : entries) total += e.cost;
  if (total <= config_.max_bytes) return;
  std::sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) { return a.used < b.used; });
  for (const auto& e : entries) {
    if (total <= config_.max_bytes) break;
    sys::Fd entry_lock(::open((e.dir / "lock").c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC));
    // In use by a run (ours or another Ignite's): it stays.
    if (!entry_lock || ::flock(entry_lock.get(), LOCK_EX | LOCK_NB) != 0) continue;
    spdlog::info("cache: evicting {} ({} bytes, least recently used)", e.dir.string(), e.cost);
    discard(e.dir, config_.run_prefix);
    total -= e.cost;
  }
}

std::uint64_t BuildCache::size() const {
  std::uint64_t total = 0;
  for (const auto& e : list_entries(config_.root)) total += e.cost;
  return total;
}

Status require_plain(const fs::path& path, bool directory) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return fail(Error::from_errno("artifact " + path.filename().string()));
  if (directory ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
    return fail(ErrorCode::invalid_argument,
                "artifact " + path.filename().string() + " is not a plain " + (directory ? "directory" : "file"));
  return ok();
}

}  // namespace ignite::engine
