#include "engine/build_cache.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <vector>

#include "sys/files.hpp"
#include "sys/sha256.hpp"
#include "sys/temp_dir.hpp"

namespace ignite::engine {
namespace {

namespace fs = std::filesystem;
constexpr const char* kComplete = ".complete";

}  // namespace

Result<std::string> hash_tree(const fs::path& dir, const std::string& salt) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    if (it->is_symlink(ec)) continue;
    if (it->is_directory(ec) && it->path().filename() == "node_modules") {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file(ec)) files.push_back(fs::relative(it->path(), dir));
  }
  if (ec) return fail(Error::from_errno("hash " + dir.string(), ec.value()));
  std::sort(files.begin(), files.end());
  sys::Sha256 h;
  h.update(salt);
  for (const auto& f : files) {
    h.update(std::string(1, '\0') + f.string() + std::string(1, '\0'));
    IGNITE_TRY(h.update_file(dir / f));
  }
  return h.hex();
}

Status require_plain(const fs::path& path, bool directory) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return fail(Error::from_errno("artifact " + path.filename().string()));
  if (directory ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
    return fail(ErrorCode::invalid_argument,
                "artifact " + path.filename().string() + " is not a plain " + (directory ? "directory" : "file"));
  return ok();
}

Result<Artifact> cached_artifact(sandbox::Backend& backend, const fs::path& cache_dir,
                                 const std::string& key, const StepSpecFn& make_spec,
                                 const VerifyFn& verify, std::stop_token stop) {
  Artifact a;
  a.dir = cache_dir / key;
  if (fs::exists(a.dir / kComplete)) {
    a.cached = true;
    return a;
  }
  std::error_code ec;
  fs::create_directories(cache_dir, ec);
  if (ec) return fail(Error::from_errno("create " + cache_dir.string(), ec.value()));
  IGNITE_TRY_ASSIGN(sys::TempDir out, sys::TempDir::create(cache_dir, key + ".tmp-"));
  // The step runs as the unprivileged sandbox user; this directory is the only place it may
  // write, and nothing else of the cache is visible to it.
  ::chmod(out.path().c_str(), 0777);
  IGNITE_TRY_ASSIGN(a.step, backend.run(make_spec(out.path()), stop, {}));
  if (a.failed()) return a;
  IGNITE_TRY(verify(out.path()));
  IGNITE_TRY(sys::write_new_file(out.path() / kComplete, ""));
  ::chmod(out.path().c_str(), 0755);
  // Another run may have finished the same key meanwhile: then keep theirs, ours is removed.
  fs::rename(out.path(), a.dir, ec);
  return a;
}

}  // namespace ignite::engine
