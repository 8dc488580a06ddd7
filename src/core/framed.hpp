// Length-framed fields: how keys (build cache, warm pools) and manifests write a field.
#pragma once
#include <string>
#include <string_view>

namespace ignite {

// "<length>:<bytes>", so that no two different sequences of fields encode alike.
inline std::string framed(std::string_view s) { return std::to_string(s.size()) + ":" + std::string(s); }

}  // namespace ignite
