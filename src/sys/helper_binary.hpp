// Ignite's helper programs (ignite-sandbox-init, ignite-warm-exec, ignite-docker-init,
// ignite-guest-agent) are installed next to `ignite`; an environment variable may name another.
#pragma once
#include <filesystem>
#include <optional>
#include <string_view>

namespace ignite::sys {

// $<env_name> when set (then a regular file, else none), else `name` next to the running
// executable when it is a regular file there.
std::optional<std::filesystem::path> helper_binary(const char* env_name, std::string_view name);

}  // namespace ignite::sys
