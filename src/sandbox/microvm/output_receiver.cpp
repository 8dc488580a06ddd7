#include "sandbox/microvm/output_receiver.hpp"

#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sys/write_all.hpp"

namespace ignite::sandbox::microvm {
namespace {

mode_t mode_of(guest::FileKind kind) {
  switch (kind) {
    case guest::FileKind::dir: return S_IFDIR;
    case guest::FileKind::file: return S_IFREG;
    case guest::FileKind::symlink: return S_IFLNK;
    case guest::FileKind::fifo: return S_IFIFO;
    case guest::FileKind::socket: return S_IFSOCK;
    case guest::FileKind::device: return S_IFCHR;
    case guest::FileKind::other: break;
  }
  return 0;  // the budget words it "not a file, directory or symlink"
}

// The guest's words never reach the caller: a path it should never have sent is not echoed.
Unexpected hostile(const std::string& why) { return fail(ErrorCode::invalid_argument, "the guest sent " + why); }

}  // namespace

bool valid_tree_path(std::string_view rel, std::uint32_t& depth) {
  if (rel.empty() || rel.size() > 64 * 1024) return false;
  depth = 0;
  std::size_t start = 0;
  for (;;) {
    const std::size_t slash = rel.find('/', start);
    const std::string_view name = rel.substr(start, slash == std::string_view::npos ? slash : slash - start);
    if (name.empty() || name == "." || name == ".." || name.size() > NAME_MAX ||
        name.find('\0') != std::string_view::npos)
      return false;
    if (slash == std::string_view::npos) return true;
    ++depth;
    start = slash + 1;
  }
}

Result<OutputReceiver> OutputReceiver::create(const std::filesystem::path& parent, const sys::TreeLimits& limits) {
  IGNITE_TRY_ASSIGN(sys::TempDir dir, sys::TempDir::create(parent, "out-"));
  sys::Fd root(::open(dir.path().c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!root) return fail(Error::from_errno("open the output staging dir"));
  return OutputReceiver(std::move(dir), std::move(root), limits);
}

void OutputReceiver::entry(const guest::FileMessage& f) {
  if (refused_) return;
  if (auto s = take_entry(f); !s) refuse(std::move(s).error());
}

void OutputReceiver::data(std::string_view bytes) {
  if (refused_) return;
  if (auto s = take_data(bytes); !s) refuse(std::move(s).error());
}

void OutputReceiver::incomplete() {
  refuse({ErrorCode::invalid_argument, "the VM could not read all of it", 0});
}

Result<int> OutputReceiver::finish() {
  if (!refused_)
    if (auto s = end_file(); !s) refuse(std::move(s).error());
  if (refused_) return fail(*refused_);
  return root_.get();
}

Status OutputReceiver::end_file() {
  if (!file_) return ok();
  if (file_left_ > 0) return sys::tree_refusal(file_rel_, "fewer bytes than the guest announced");
  // Read-only for now; copy_tree_out keeps only whether any x bit is set.
  if (::fchmod(file_.get(), file_executable_ ? 0500 : 0400) != 0) return fail(Error::from_errno("chmod " + file_rel_));
  file_.reset();
  return ok();
}

Status OutputReceiver::take_data(std::string_view bytes) {
  if (!file_) return hostile("file bytes outside a file");
  if (bytes.size() > file_left_) return sys::tree_refusal(file_rel_, "more bytes than the guest announced");
  if (!sys::write_all(file_.get(), bytes)) return fail(Error::from_errno("write " + file_rel_));
  file_left_ -= bytes.size();
  if (file_left_ == 0) return end_file();
  return ok();
}

Result<int> OutputReceiver::parent_of(const std::string& rel, const std::string& parent) {
  if (parent.empty()) return root_.get();
  if (parent_fd_ && parent == parent_rel_) return parent_fd_.get();
  // Component by component from the root, never through a symlink (O_NOFOLLOW on each).
  sys::Fd at(::fcntl(root_.get(), F_DUPFD_CLOEXEC, 0));
  std::size_t start = 0;
  while (start <= parent.size()) {
    const std::size_t slash = std::min(parent.find('/', start), parent.size());
    const std::string name = parent.substr(start, slash - start);
    sys::Fd next(::openat(at.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next) {
      if (errno == ENOENT) return sys::tree_refusal(rel, "sent before its directory");
      if (errno == ENOTDIR || errno == ELOOP) return sys::tree_refusal(rel, "its parent is not a directory");
      return fail(Error::from_errno("open " + parent));
    }
    at = std::move(next);
    start = slash + 1;
  }
  parent_rel_ = parent;
  parent_fd_ = std::move(at);
  return parent_fd_.get();
}

Status OutputReceiver::take_entry(const guest::FileMessage& f) {
  IGNITE_TRY(end_file());
  std::uint32_t depth = 0;
  if (!valid_tree_path(f.path, depth)) return hostile("an invalid path (empty, absolute, '.', '..', NUL or too long)");
  // Count, depth and type, as copy_tree_out would check this entry on native.
  IGNITE_TRY(budget_.entry(f.path, mode_of(f.kind), depth));
  const auto slash = f.path.rfind('/');
  const std::string parent = slash == std::string::npos ? std::string() : f.path.substr(0, slash);
  const std::string name = slash == std::string::npos ? f.path : f.path.substr(slash + 1);
  IGNITE_TRY_ASSIGN(const int at, parent_of(f.path, parent));
  auto created = [&](int rc) -> Status {
    if (rc == 0) return ok();
    if (errno == EEXIST) return sys::tree_refusal(f.path, "sent twice");
    return fail(Error::from_errno("create " + f.path));
  };
  switch (f.kind) {
    case guest::FileKind::dir:
      return created(::mkdirat(at, name.c_str(), 0700));
    case guest::FileKind::symlink:
      if (f.link.empty() || f.link.find('\0') != std::string::npos) return hostile("an invalid symlink target");
      if (f.link.size() >= PATH_MAX) return sys::tree_refusal(f.path, "symlink target too long");
      return created(::symlinkat(f.link.c_str(), at, name.c_str()));
    case guest::FileKind::file: {
      IGNITE_TRY(budget_.bytes(f.path, f.size));
      const int fd = ::openat(at, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
      IGNITE_TRY(created(fd < 0 ? -1 : 0));
      file_.reset(fd);
      file_rel_ = f.path;
      file_left_ = f.size;
      file_executable_ = (f.mode & 0111) != 0;
      return file_left_ == 0 ? end_file() : ok();
    }
    default:
      return hostile("an entry of a kind the budget refuses");  // unreachable: entry() refused it
  }
}

}  // namespace ignite::sandbox::microvm
