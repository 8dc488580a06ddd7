// BuildCache: artifacts made by sandboxed build steps (compiled Go binaries, bundled
// TypeScript, installed node_modules), content-addressed by a key over every input the step can
// read (input_key.hpp), bounded in size with least-recently-used eviction.
//
// Security: a step's output is the untrusted program's output. It leaves the sandbox only
// through the run's /out (a tmpfs charged to the step's memory limit), copied by the backend as
// plain data: owned by us, read-only, no special bits, symlinks kept as links and never
// followed (sys/tree.hpp). The cache root is private to us (0700), so no local user can even
// reach an entry, and entries are mounted read-only, nosuid, nodev.
//
// Layout: <root>/<kind>/<key>/{data/, manifest, lock}. `manifest` lists every file with its
// digest, plus a stat signature of data/ at creation; an entry whose signature changed is
// re-hashed against its manifest and rebuilt if anything differs (a damaged entry is never served
// twice). `lock` is flocked shared while a run uses the entry (eviction skips it) and its mtime
// is the entry's last use.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>

#include "core/execution_result.hpp"
#include "core/result.hpp"
#include "engine/input_key.hpp"
#include "sandbox/backend.hpp"
#include "sys/fd.hpp"
#include "sys/temp_dir.hpp"

namespace ignite::engine {

struct CacheConfig {
  std::filesystem::path root = "/var/cache/ignite";
  // Sizes count an entry's bytes plus 4 KiB per file, dir or link (its inode and blocks).
  std::uint64_t max_bytes = 4ull << 30;        // every entry together
  std::uint64_t max_entry_bytes = 1ull << 30;  // one artifact (also the step's /out size)
  std::uint32_t max_entry_files = 250000;
  std::string run_prefix;  // this instance's tag: names its staging dirs
  // Staging dirs of instances that are gone (see sys::Instance) are removed on first use.
  std::function<bool(std::string_view name)> stale;
};

// An artifact in use, or the failed step that did not make one. While it lives, eviction leaves
// its entry alone.
struct Artifact {
  std::filesystem::path dir;            // the artifact's files (<entry>/data); valid unless failed()
  std::string key;
  bool cached = false;                  // reused, no step ran
  std::optional<ExecutionResult> step;  // the step's own result when it ran
  sys::Fd lease;                        // shared flock on <entry>/lock
  bool failed() const { return step && !(step->outcome == Outcome::exited && step->exit_code == 0); }
};

// What a step runs, made when the cache misses: the spec (its `output`, at least the target, is
// completed by the cache with the destination and caps), the key of exactly what the step will
// read (its snapshot: the entry is stored under it), and a check after the run (files bound
// from the live tree were not written meanwhile).
struct StepPlan {
  SandboxSpec spec;
  std::string key;
  std::function<Status()> after;  // may be empty
  std::shared_ptr<void> keep;     // lives until the run is over (the snapshot dir)
};
using StepPlanFn = std::function<Result<StepPlan>()>;
// Checks the copied output before it becomes an entry (e.g. the file the run needs is there).
using VerifyFn = std::function<Status(const std::filesystem::path& data)>;

class BuildCache {
 public:
  explicit BuildCache(CacheConfig config);

  // The artifact for `kind`/`key` (the key of the live inputs): a verified entry, else the
  // planned step's output as a new entry under the plan's key. A failed step is not an Error (it
  // is the program's compile error); the sandbox failing, or a step output that breaks the rules
  // (a FIFO, too big), is.
  Result<Artifact> get(sandbox::Backend& backend, std::string_view kind, const std::string& key,
                       const StepPlanFn& plan, const VerifyFn& verify, std::stop_token stop);

  // A fresh private dir for a step's snapshot of its inputs (snapshot.dest), removed when the
  // last holder lets go; left behind by a killed Ignite, it is collected like a staging dir.
  Result<std::shared_ptr<sys::TempDir>> snapshot_dir(std::string_view kind);

  // What the entries cost on disk together (their bytes, plus 4 KiB per file, dir or link).
  std::uint64_t size() const;

  FileHashMemo& memo() { return memo_; }
  const CacheConfig& config() const { return config_; }

 private:
  Status prepare(const std::filesystem::path& kind_dir);
  bool abandoned(const std::filesystem::path& staging) const;
  // The entry when it is sound; nothing when missing or damaged (then removed, unless in use);
  // an Error when the entry cannot be judged (a system error).
  Result<std::optional<Artifact>> reuse(const std::filesystem::path& entry, const std::string& key);
  void evict();

  CacheConfig config_;
  FileHashMemo memo_;
  std::mutex mu_;
  std::map<std::string, bool> prepared_;  // kind dirs checked (and swept) in this process
};

// Security: an artifact path the verify step checks must be a plain file or directory, never a
// symlink the host would follow when mounting it.
Status require_plain(const std::filesystem::path& path, bool directory);

}  // namespace ignite::engine
