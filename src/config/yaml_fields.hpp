// Typed, strictly checked access to yaml-cpp nodes for service.yaml. Private to src/config: the
// public header stays free of yaml-cpp so callers need not link it.
#pragma once
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.hpp"

namespace ignite::config::detail {

// One value in the document together with where it sits, so every error can name
// "<file>:<line>: <dotted.key>: <problem>".
struct Field {
  std::string_view file;  // as shown in messages
  std::string path;       // dotted key ("service.memoryMb"), "" for the document root
  std::string key;        // the last key exactly as written ("memoryMb"); may itself hold dots
  int line = 1;           // 1-based line of the key (of the item, for list items)
  YAML::Node value;

  Unexpected error(std::string_view problem) const;
  // A field nested under this one, e.g. child("memoryMb", ...) of "service".
  Field child(std::string_view child_key, int child_line, const YAML::Node& child_value) const;
};

// 1-based line of a node, or `fallback` when yaml-cpp has no position for it.
int line_of(const YAML::Node& node, int fallback);

// How a value reads in "expected X, got <describe>": 'abc', a map, a list, nothing.
std::string describe(const YAML::Node& node);

// The entries of a map in file order. Rejects non-maps, non-scalar and duplicate keys, and
// keys outside `known` (with a "did you mean" suggestion). A null value yields no entries.
Result<std::vector<Field>> map_entries(const Field& map, std::span<const std::string_view> known);

// Like map_entries but accepts any scalar key (for user-named keys such as env variables).
Result<std::vector<Field>> map_entries_any(const Field& map);

// The items of a list, each with a path like "service.dependencies[2]". Null yields none.
Result<std::vector<Field>> list_items(const Field& list);

Result<std::string> read_string(const Field& field);
Result<std::int64_t> read_int(const Field& field, std::int64_t min, std::int64_t max);
// A finite number in (min_exclusive, max_inclusive].
Result<double> read_number(const Field& field, double min_exclusive, double max_inclusive);
Result<bool> read_bool(const Field& field);

}  // namespace ignite::config::detail
