// ProbeCache: remembers slow facts about installed runtimes (a binary's version, a tree's size)
// across processes, so a run does not pay for `node --version` or walking a stdlib each time.
#pragma once
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>

namespace ignite::runtime {

class ProbeCache {
 public:
  // `file` holds the entries; when it cannot be written the cache lives in memory only.
  explicit ProbeCache(std::filesystem::path file);

  // Keyed by kind + path + the path's mtime and size: a reinstalled binary misses the cache.
  std::optional<std::string> get(const std::string& kind, const std::filesystem::path& path);
  void put(const std::string& kind, const std::filesystem::path& path, const std::string& value);

 private:
  static std::string key(const std::string& kind, const std::filesystem::path& path);
  void load();
  void save();

  std::filesystem::path file_;
  std::mutex mu_;
  bool loaded_ = false;
  std::map<std::string, std::string> entries_;
};

}  // namespace ignite::runtime
