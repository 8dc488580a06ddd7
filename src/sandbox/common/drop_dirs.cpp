#include "sandbox/common/drop_dirs.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include "sys/files.hpp"

namespace ignite::sandbox {
namespace {

namespace fs = std::filesystem;

// A new file in a drop dir, its parents created 0755. Security: the drop dirs are ours (0755
// root, read-only in the sandbox), and nothing untrusted has run in the slot yet, so nothing
// can have been planted; sys::write_new_file's O_EXCL|O_NOFOLLOW hold that anyway.
Status write_job_file(const fs::path& path, std::string_view content) {
  std::error_code ec;
  fs::create_directories(path.parent_path(), ec);
  if (ec) return fail(ErrorCode::internal, "create " + path.parent_path().string() + ": " + ec.message());
  return sys::write_new_file(path, content, 0644);
}

// A hard link when both are on one filesystem (staged ad-hoc files are ours and read-only to
// every sandbox), else a copy.
Status link_or_copy(const fs::path& from, const fs::path& to) {
  if (::link(from.c_str(), to.c_str()) == 0) return ok();
  IGNITE_TRY_ASSIGN(std::string content, sys::read_file(from));
  return write_job_file(to, content);
}

Status copy_tree_in(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  for (fs::recursive_directory_iterator it(from, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path dest = to / fs::relative(it->path(), from);
    if (it->is_symlink(ec)) return fail(ErrorCode::invalid_argument, "a staged tree holds a link: " + it->path().string());
    if (it->is_directory(ec)) {
      if (::mkdir(dest.c_str(), 0755) != 0 && errno != EEXIST) return fail(Error::from_errno("mkdir " + dest.string()));
    } else {
      IGNITE_TRY(link_or_copy(it->path(), dest));
    }
  }
  if (ec) return fail(ErrorCode::internal, "read " + from.string() + ": " + ec.message());
  return ok();
}

}  // namespace

Result<fs::path> drop_host_path(const fs::path& target, const std::vector<fs::path>& drop_dirs,
                                const std::vector<fs::path>& hosts) {
  for (std::size_t i = 0; i < drop_dirs.size() && i < hosts.size(); ++i) {
    const fs::path& d = drop_dirs[i];
    auto rel = target.lexically_relative(d);
    if (target == d) return hosts[i];
    if (!rel.empty() && *rel.begin() != ".." && rel.is_relative()) return hosts[i] / rel;
  }
  return fail(ErrorCode::invalid_argument, target.string() + " is in none of the slot's drop dirs");
}

Status place_job_files(const Job& job, const std::vector<fs::path>& drop_dirs, const std::vector<fs::path>& hosts) {
  for (const auto& f : job.files) {
    if (f.target.lexically_normal() != f.target || !f.target.is_absolute())
      return fail(ErrorCode::invalid_argument, "job file target must be a plain absolute path: " + f.target.string());
    IGNITE_TRY_ASSIGN(fs::path host, drop_host_path(f.target, drop_dirs, hosts));
    IGNITE_TRY(write_job_file(host, f.content));
  }
  for (const auto& t : job.trees) {
    IGNITE_TRY_ASSIGN(fs::path host, drop_host_path(t.target, drop_dirs, hosts));
    IGNITE_TRY(copy_tree_in(t.source, host));
  }
  return ok();
}

}  // namespace ignite::sandbox
