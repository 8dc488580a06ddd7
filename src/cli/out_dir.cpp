#include "cli/out_dir.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

#include "sys/fd.hpp"

namespace ignite::cli {
namespace {

// Opens (creating) the directory `name` inside `parent`, never following a symlink.
Result<sys::Fd> open_subdir(int parent, const std::string& name, const std::string& shown) {
  if (::mkdirat(parent, name.c_str(), 0755) != 0 && errno != EEXIST) return fail(Error::from_errno("mkdir " + shown));
  sys::Fd fd(::openat(parent, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd) return fail(Error::from_errno("open " + shown + " (a directory, not a link)"));
  return fd;
}

Status write_one(int root, const std::filesystem::path& dir, const engine::OutputFile& f) {
  const std::filesystem::path rel(f.path);
  if (rel.empty() || rel.is_absolute())
    return fail(ErrorCode::invalid_argument, "output file with a bad path: " + f.path);
  sys::Fd parent(::fcntl(root, F_DUPFD_CLOEXEC, 0));
  std::filesystem::path shown = dir;
  const auto last = std::prev(rel.end());
  for (auto it = rel.begin(); it != rel.end(); ++it) {
    const std::string part = it->string();
    if (part.empty() || part == "." || part == "..")
      return fail(ErrorCode::invalid_argument, "output file with a bad path: " + f.path);
    shown /= part;
    if (it == last) break;
    IGNITE_TRY_ASSIGN(parent, open_subdir(parent.get(), part, shown.string()));
  }
  // O_NONBLOCK: a FIFO planted under the name fails (ENXIO) instead of waiting for a reader.
  sys::Fd out(::openat(parent.get(), last->c_str(),
                       O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0644));
  if (!out) return fail(Error::from_errno("write " + shown.string()));
  struct stat st {};
  if (::fstat(out.get(), &st) != 0 || !S_ISREG(st.st_mode))
    return fail(ErrorCode::invalid_argument, shown.string() + " exists and is not a regular file");
  std::string_view left = f.content;
  while (!left.empty()) {
    const ssize_t n = ::write(out.get(), left.data(), left.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail(Error::from_errno("write " + shown.string()));
    left.remove_prefix(static_cast<std::size_t>(n));
  }
  return ok();
}

}  // namespace

Status write_out_dir(const engine::JobReport& report, const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return fail(ErrorCode::invalid_argument, "--out " + dir.string() + ": " + ec.message());
  sys::Fd root(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!root) return fail(Error::from_errno("--out " + dir.string()));
  for (const auto& f : report.files) IGNITE_TRY(write_one(root.get(), dir, f));
  return ok();
}

}  // namespace ignite::cli
