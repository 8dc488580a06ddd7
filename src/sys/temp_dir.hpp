// TempDir: a private (0700) directory that is removed with everything in it on destruction.
#pragma once
#include <filesystem>

#include "core/result.hpp"

namespace ignite::sys {

class TempDir {
 public:
  // mkdtemp("<parent>/<prefix>XXXXXX"); creates `parent` (0700) when missing.
  static Result<TempDir> create(const std::filesystem::path& parent, const std::string& prefix);

  TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  TempDir& operator=(TempDir&&) = delete;
  TempDir(const TempDir&) = delete;
  ~TempDir();  // remove_all without following symlinks; failures are logged

  const std::filesystem::path& path() const noexcept { return path_; }
  // Gives the directory up (it was renamed into place): it is no longer removed.
  void release() noexcept { path_.clear(); }

 private:
  explicit TempDir(std::filesystem::path p) : path_(std::move(p)) {}
  std::filesystem::path path_;
};

}  // namespace ignite::sys
