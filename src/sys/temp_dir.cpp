#include "sys/temp_dir.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "sys/tree.hpp"

namespace ignite::sys {

Result<TempDir> TempDir::create(const std::filesystem::path& parent, const std::string& prefix) {
  std::error_code ec;
  std::filesystem::create_directories(parent, ec);
  if (ec) return fail(Error::from_errno("create " + parent.string(), ec.value()));
  std::string tmpl = (parent / (prefix + "XXXXXX")).string();
  if (::mkdtemp(tmpl.data()) == nullptr) return fail(Error::from_errno("mkdtemp " + tmpl));
  return TempDir(tmpl);
}

TempDir::~TempDir() {
  if (path_.empty()) return;
  // remove_tree does not follow symlinks; it removes the links themselves.
  if (auto removed = remove_tree(path_); !removed) spdlog::warn("cleanup: {}", removed.error().message);
}

}  // namespace ignite::sys
