#include "guest/agent_output.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "sys/dir_names.hpp"
#include "sys/fd.hpp"

namespace ignite::guest {
namespace {

FileKind kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return FileKind::dir;
  if (S_ISREG(mode)) return FileKind::file;
  if (S_ISLNK(mode)) return FileKind::symlink;
  if (S_ISFIFO(mode)) return FileKind::fifo;
  if (S_ISSOCK(mode)) return FileKind::socket;
  if (S_ISCHR(mode) || S_ISBLK(mode)) return FileKind::device;
  return FileKind::other;
}

enum class Step { go_on, stop, broken };

class TreeSender {
 public:
  TreeSender(const sys::TreeLimits& limits, const Send& send) : budget_(limits), send_(send) {}

  // The entries of `dirfd` (`prefix`: its path, `depth`: dirs below the root).
  Step dir(int dirfd, const std::string& prefix, std::uint32_t depth) {
    std::vector<std::string> names;
    if (sys::sorted_dir_names(dirfd, std::size_t{budget_.entries_left()} + 1, names) != 0) return Step::broken;
    for (const auto& name : names) {
      const std::string rel = prefix.empty() ? name : prefix + "/" + name;
      struct stat st {};
      if (::fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return Step::broken;
      FileMessage f{rel, kind_of(st.st_mode), static_cast<std::uint32_t>(st.st_mode & 07777), 0, {}};
      // Refused here: refused on the host, by the same check over the same frame. Sent, then done.
      if (!budget_.entry(rel, st.st_mode, depth)) return send_(file_frame(f)) ? Step::stop : Step::broken;
      Step step = Step::go_on;
      if (f.kind == FileKind::dir) {
        if (!send_(file_frame(f))) return Step::broken;
        sys::Fd sub(::openat(dirfd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
        if (!sub) return Step::broken;
        step = dir(sub.get(), rel, depth + 1);
      } else if (f.kind == FileKind::symlink) {
        std::string target(PATH_MAX, '\0');
        const ssize_t n = ::readlinkat(dirfd, name.c_str(), target.data(), target.size());
        if (n < 0) return Step::broken;
        f.link = target.substr(0, static_cast<std::size_t>(n));  // PATH_MAX bytes: the host refuses it
        if (!send_(file_frame(f))) return Step::broken;
      } else {
        step = file(dirfd, name, st, std::move(f));
      }
      if (step != Step::go_on) return step;
    }
    return Step::go_on;
  }

 private:
  // A regular file: its header with the size fstat saw, then exactly that many bytes.
  Step file(int dirfd, const std::string& name, const struct stat& seen, FileMessage f) {
    sys::Fd in(::openat(dirfd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    struct stat st {};
    if (!in || ::fstat(in.get(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_ino != seen.st_ino) return Step::broken;
    f.size = static_cast<std::uint64_t>(st.st_size);
    const bool fits = budget_.bytes(f.path, f.size).has_value();
    if (!send_(file_frame(f))) return Step::broken;
    if (!fits) return Step::stop;  // the header says enough: the host refuses it by its size
    std::string chunk(kFileChunkBytes, '\0');
    for (std::uint64_t left = f.size; left > 0;) {
      const ssize_t n = ::read(in.get(), chunk.data(), std::min<std::uint64_t>(left, chunk.size()));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return Step::broken;  // shorter than it was: the host refuses the tree
      if (!send_(file_data_frame(std::string_view(chunk.data(), static_cast<std::size_t>(n))))) return Step::broken;
      left -= static_cast<std::uint64_t>(n);
    }
    return Step::go_on;
  }

  sys::TreeBudget budget_;
  const Send& send_;
};

}  // namespace

bool send_output_tree(int dir, const sys::TreeLimits& limits, const Send& send) {
  TreeSender sender(limits, send);
  return sender.dir(dir, "", 0) != Step::broken;
}

}  // namespace ignite::guest
