// The config-file form of `serve`'s warm pools (`--pool-config FILE`):
//
//   pools:
//     python: 2..16          # or {min: 2, max: 16}, or a single number
//     node: {min: 1, max: 8}
//   memoryMb: 1024           # all idle slots together (optional)
//   idleSeconds: 30          # no demand this long: back to the minimum (optional)
//
// Errors name "file:line: dotted.key: problem" as service.yaml's do.
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "core/result.hpp"

namespace ignite::config {

struct PoolFile {
  std::map<std::string, std::pair<std::uint32_t, std::uint32_t>> runtimes;  // name -> (min, max)
  std::optional<std::uint32_t> memory_mb;
  std::optional<std::uint32_t> idle_seconds;
};

Result<PoolFile> parse_pool_file(std::string_view yaml_text, const std::string& shown_name);
Result<PoolFile> load_pool_file(const std::filesystem::path& path);

}  // namespace ignite::config
