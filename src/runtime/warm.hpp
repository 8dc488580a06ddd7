// The warm-slot bootstrap of a runtime (runtimes/warm/, protocol in sandbox/common/handoff.hpp).
#pragma once
#include <optional>
#include <string_view>

#include "runtime/catalog.hpp"

namespace ignite::runtime {

struct WarmBootstrap {
  std::string_view path;     // where it is placed inside the sandbox
  std::string_view content;  // the script, compiled into the binary
};

// The runtime's bootstrap; nullopt for runtimes that start cold only (go: a static binary;
// quickjs: it starts in about a millisecond anyway).
std::optional<WarmBootstrap> warm_bootstrap(std::string_view runtime_name);

}  // namespace ignite::runtime
