#include "runtime/probe_cache.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

namespace ignite::runtime {

namespace fs = std::filesystem;

ProbeCache::ProbeCache(fs::path file) : file_(std::move(file)) {}

std::string ProbeCache::key(const std::string& kind, const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return "";
  return kind + '\t' + path.string() + '\t' + std::to_string(st.st_mtim.tv_sec) + '.' +
         std::to_string(st.st_mtim.tv_nsec) + '\t' + std::to_string(st.st_size);
}

void ProbeCache::load() {
  if (loaded_) return;
  loaded_ = true;
  std::ifstream in(file_);
  std::string line;
  while (std::getline(in, line)) {
    auto cut = line.rfind('\t');
    if (cut != std::string::npos) entries_[line.substr(0, cut)] = line.substr(cut + 1);
  }
}

void ProbeCache::save() {
  std::error_code ec;
  fs::create_directories(file_.parent_path(), ec);
  // Write-then-rename: concurrent processes never see half a file (the last writer wins).
  const fs::path tmp = file_.string() + ".tmp" + std::to_string(::getpid());
  {
    std::ofstream out(tmp);
    if (!out) return;
    for (const auto& [k, v] : entries_) out << k << '\t' << v << '\n';
  }
  fs::rename(tmp, file_, ec);
  if (ec) fs::remove(tmp, ec);
}

std::optional<std::string> ProbeCache::get(const std::string& kind, const fs::path& path) {
  std::lock_guard lock(mu_);
  load();
  const std::string k = key(kind, path);
  if (k.empty()) return std::nullopt;
  auto it = entries_.find(k);
  if (it == entries_.end()) return std::nullopt;
  return it->second;
}

void ProbeCache::put(const std::string& kind, const fs::path& path, const std::string& value) {
  std::lock_guard lock(mu_);
  load();
  const std::string k = key(kind, path);
  if (k.empty() || value.find('\n') != std::string::npos) return;
  entries_[k] = value;
  save();
}

}  // namespace ignite::runtime
