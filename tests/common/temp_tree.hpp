// temp_tree: a fresh directory for one test (mkdtemp under the system temp dir), removed with
// everything in it when the test's fixture goes away; write() puts files into it.
#pragma once
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <string_view>

#include "sys/temp_dir.hpp"

namespace ignite::testing {

class TempTree {
 public:
  explicit TempTree(const std::string& prefix) : dir_(create(prefix)) {}

  const std::filesystem::path& path() const { return dir_.path(); }

  // Writes `text` to path()/rel, creating the directories on the way; returns the full path.
  std::filesystem::path write(const std::filesystem::path& rel, std::string_view text) const {
    const std::filesystem::path p = path() / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    return p;
  }

 private:
  static sys::TempDir create(const std::string& prefix) {
    auto dir = sys::TempDir::create(std::filesystem::temp_directory_path(), prefix);
    if (!dir) throw std::runtime_error("temp dir: " + dir.error().message);
    return std::move(dir).value();
  }
  sys::TempDir dir_;
};

}  // namespace ignite::testing
