// Reading one runtime descriptor document (the runtimes/*.json format), with nlohmann/json: at
// build time (descriptors_gen) and in tests. The CLI itself parses no descriptor: it carries the
// table descriptors_gen wrote (descriptors.hpp).
#pragma once
#include <string_view>

#include "core/result.hpp"
#include "runtime/descriptors.hpp"

namespace ignite::runtime {

// Fails naming the field.
Result<Descriptor> parse_descriptor(std::string_view json);

}  // namespace ignite::runtime
