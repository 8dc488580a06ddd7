#include "sys/helper_binary.hpp"

#include <cstdlib>

namespace ignite::sys {

std::optional<std::filesystem::path> helper_binary(const char* env_name, std::string_view name) {
  std::error_code ec;
  if (const char* env = std::getenv(env_name); env && *env) {
    if (std::filesystem::is_regular_file(env, ec)) return std::filesystem::path(env);
    return std::nullopt;
  }
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return std::nullopt;
  const auto beside = self.parent_path() / name;
  if (std::filesystem::is_regular_file(beside, ec)) return beside;
  return std::nullopt;
}

}  // namespace ignite::sys
