#include "sys/instance.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>

#include <spdlog/spdlog.h>

#include "sys/files.hpp"
#include "sys/owned_dir.hpp"
#include "sys/random.hpp"
#include "sys/runtime_memory.hpp"
#include "sys/tree.hpp"

namespace ignite::sys {
namespace {

namespace fs = std::filesystem;

// A dir without its lock file is an instance caught between mkdir and creating its lock (or
// one that crashed right there). Only the latter is still lock-less after this long.
constexpr auto kUnlockedGrace = std::chrono::seconds(60);

std::string new_id() { return "i" + std::to_string(::getpid()) + "-" + random_hex(4); }

bool valid_id(std::string_view id) {
  if (id.size() < 2 || id.size() > 32 || id[0] != 'i') return false;
  for (char c : id) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '-')) return false;
  }
  return true;
}

void remove_dir(const fs::path& dir) {
  if (auto removed = remove_tree(dir); !removed) spdlog::warn("cleanup: {}", removed.error().message);
}

// An older Ignite kept untagged scratch ("run-XXXXXX") and staging ("work/job-XXXXXX") dirs
// right in the runtime dir. Whether their owner lives cannot be told; once older than any run
// may last, they are garbage.
void collect_untagged(const fs::path& root) {
  constexpr auto kLongerThanAnyRun = std::chrono::hours(2);
  std::error_code ec;
  for (const fs::path& dir : {root, root / "work"}) {
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      const bool untagged = name.rfind("run-", 0) == 0 || name.rfind("job-", 0) == 0;
      if (untagged && !it->is_symlink(ec) && older_than(it->path(), kLongerThanAnyRun)) remove_dir(it->path());
    }
  }
}

// Removes the dirs of instances whose lock nobody holds; returns their ids.
std::vector<std::string> collect_dead(const fs::path& instances, const std::string& self) {
  std::vector<std::string> dead;
  std::error_code ec;
  for (fs::directory_iterator it(instances, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string id = it->path().filename().string();
    if (id == self || !valid_id(id) || !it->is_directory(ec) || it->is_symlink(ec)) continue;
    const fs::path lock_path = it->path() / "lock";
    Fd lock(::open(lock_path.c_str(), O_RDWR | O_NOFOLLOW | O_CLOEXEC));
    if (!lock) {
      if (errno == ENOENT && older_than(it->path(), kUnlockedGrace)) {
        remove_dir(it->path());
        dead.push_back(id);
      }
      continue;
    }
    if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) continue;  // its owner is alive
    // Holding the lock, unlink it first: an instance that raced us for this id sees its lock
    // file gone and picks another id.
    ::unlink(lock_path.c_str());
    remove_dir(it->path());
    dead.push_back(id);
  }
  return dead;
}

}  // namespace

Result<Instance> Instance::create(const fs::path& runtime_root, Placement placement) {
  IGNITE_TRY(ensure_owned_dir(runtime_root, 0700));
  // Held until this instance is registered: no tmpfs is mounted over a disk dir meanwhile.
  Fd disk_lock;
  if (placement == Placement::in_memory) {
    IGNITE_TRY_ASSIGN(disk_lock, settle_runtime_dir_in_memory(runtime_root));
  }
  const fs::path instances = runtime_root / "instances";
  IGNITE_TRY(ensure_owned_dir(instances, 0700));
  Instance inst;
  inst.root_ = runtime_root;
  for (int attempt = 0; attempt < 8 && !inst.lock_; ++attempt) {
    const std::string id = new_id();
    const fs::path dir = instances / id;
    if (::mkdir(dir.c_str(), 0700) != 0) {
      if (errno == EEXIST) continue;
      return fail(Error::from_errno("create " + dir.string()));
    }
    const fs::path lock_path = dir / "lock";
    Fd lock(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!lock) continue;  // a collector removed the dir meanwhile
    if (::flock(lock.get(), LOCK_EX | LOCK_NB) != 0) continue;
    // A collector may have taken the lock between our open and flock and unlinked it: then the
    // file we hold is not the one at the path any more.
    if (!still_named(lock.get(), lock_path)) continue;
    inst.id_ = id;
    inst.dir_ = dir;
    inst.lock_ = std::move(lock);
  }
  if (!inst.lock_) return fail(ErrorCode::internal, "could not register an instance in " + instances.string());
  inst.collected_ = collect_dead(instances, inst.id_);
  collect_untagged(runtime_root);
  return inst;
}

Instance::~Instance() {
  if (dir_.empty() || !lock_) return;
  remove_dir(dir_);
}

bool Instance::is_live(const fs::path& runtime_root, std::string_view id) {
  if (!valid_id(id)) return false;
  Fd lock(::open((runtime_root / "instances" / std::string(id) / "lock").c_str(),
                 O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
  // Gone without a trace: dead. Any other failure (EMFILE, EACCES) proves nothing: live.
  if (!lock) return errno != ENOENT;
  // The owner holds it exclusively; a shared lock we can take means nobody does.
  return ::flock(lock.get(), LOCK_SH | LOCK_NB) != 0;
}

std::string_view Instance::id_of(std::string_view tagged_name) {
  const auto dot = tagged_name.find('.');
  if (dot == std::string_view::npos) return {};
  const auto id = tagged_name.substr(0, dot);
  return valid_id(id) ? id : std::string_view{};
}

}  // namespace ignite::sys
