// JSON from outside (request bodies, `--input`) decoded with a bound on nesting depth.
//
// Why: nlohmann parses iteratively, but dump(), copies and comparisons recurse once per level,
// so a 200 KB document nested 100,000 deep crashes whoever serializes it (SIGSEGV on the stack).
// The depth is checked with the SAX interface, before any DOM is built.
#pragma once
#include <cstddef>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/result.hpp"

namespace ignite {

// Deep enough for any real request (the request object, an `input` document, its records), far
// shallower than what the stack can take.
inline constexpr std::size_t kMaxJsonDepth = 128;

// Parses `text` as one JSON document nested at most `max_depth` arrays/objects deep.
// Fails with invalid_argument: "JSON nested deeper than N levels" or "not valid JSON: <reason>"
// (callers say what: "--input is " + message).
Result<nlohmann::json> parse_json_bounded(std::string_view text, std::size_t max_depth = kMaxJsonDepth);

}  // namespace ignite
