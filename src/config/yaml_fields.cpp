#include "config/yaml_fields.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <limits>
#include <system_error>
#include <unordered_map>

#include "config/service_config.hpp"
#include "core/number_text.hpp"
#include "core/printable.hpp"

namespace ignite::config::detail {
namespace {

// yaml-cpp tags every quoted or block scalar "!" and leaves plain scalars "?". A quoted "128"
// is a string in YAML, so numeric and boolean fields refuse it rather than guess.
bool is_quoted(const YAML::Node& node) { return node.Tag() == "!"; }

std::string join_known(std::span<const std::string_view> known) {
  std::string out;
  for (std::string_view k : known) {
    if (!out.empty()) out += ", ";
    out += k;
  }
  return out;
}

// Numbers are parsed by hand because yaml-cpp's as<int>() accepts "0x10", "1_000" and silently
// wraps on overflow; we want exactly decimal text or an error that says what was found.
std::string_view strip_plus(std::string_view text) {
  if (text.size() > 1 && text.front() == '+' && text[1] != '-' && text[1] != '+') {
    text.remove_prefix(1);
  }
  return text;
}

Result<std::vector<Field>> entries(const Field& map, std::span<const std::string_view> known,
                                   bool any_key) {
  std::vector<Field> out;
  if (!map.value.IsDefined() || map.value.IsNull()) return out;
  if (!map.value.IsMap()) return map.error("expected a map, got " + describe(map.value));
  // Key -> line of its first definition. A hash set, not a scan of `out`: a 1 MiB env map has
  // ~100,000 keys and comparing each with all before it took half a minute.
  std::unordered_map<std::string, int> seen;
  for (const auto& kv : map.value) {
    const int key_line = line_of(kv.first, map.line);
    if (!kv.first.IsScalar()) {
      return map.child("?", key_line, kv.second)
          .error("expected a plain key, got " + describe(kv.first));
    }
    const std::string& key = kv.first.Scalar();
    Field field = map.child(key, key_line, kv.second);
    if (const auto [first, inserted] = seen.try_emplace(key, key_line); !inserted) {
      return field.error("duplicate key (first defined on line " + std::to_string(first->second) +
                         ")");
    }
    if (!any_key) {
      bool ok_key = false;
      for (std::string_view k : known) ok_key = ok_key || k == key;
      if (!ok_key) {
        std::string hint = suggest(key, known);
        return field.error(hint.empty() ? "unknown key (expected one of: " + join_known(known) + ")"
                                        : "unknown key (did you mean '" + hint + "'?)");
      }
    }
    out.push_back(std::move(field));
  }
  return out;
}

}  // namespace

Unexpected Field::error(std::string_view problem) const {
  std::string message = std::string(file) + ":" + std::to_string(line) + ": ";
  if (!path.empty()) message += path + ": ";
  message += problem;
  return fail(ErrorCode::invalid_argument, std::move(message));
}

Field Field::child(std::string_view child_key, int child_line,
                   const YAML::Node& child_value) const {
  std::string child_path =
      path.empty() ? std::string(child_key) : path + "." + std::string(child_key);
  return Field{file, std::move(child_path), std::string(child_key), child_line, child_value};
}

int line_of(const YAML::Node& node, int fallback) {
  if (!node.IsDefined()) return fallback;
  const YAML::Mark mark = node.Mark();
  return mark.is_null() || mark.line < 0 ? fallback : mark.line + 1;
}

std::string describe(const YAML::Node& node) {
  if (!node.IsDefined() || node.IsNull()) return "nothing";
  if (node.IsMap()) return "a map";
  if (node.IsSequence()) return "a list";
  // Keep messages one line and short: values can be long or hold control characters.
  const std::string text = printable(node.Scalar(), 40);
  return is_quoted(node) ? "the quoted string '" + text + "'" : "'" + text + "'";
}

Result<std::vector<Field>> map_entries(const Field& map, std::span<const std::string_view> known) {
  return entries(map, known, false);
}

Result<std::vector<Field>> map_entries_any(const Field& map) { return entries(map, {}, true); }

Result<std::vector<Field>> list_items(const Field& list) {
  std::vector<Field> out;
  if (!list.value.IsDefined() || list.value.IsNull()) return out;
  if (!list.value.IsSequence()) return list.error("expected a list, got " + describe(list.value));
  std::size_t index = 0;
  for (const auto& item : list.value) {
    out.push_back(Field{list.file, list.path + "[" + std::to_string(index) + "]", "",
                        line_of(item, list.line), item});
    ++index;
  }
  return out;
}

Result<std::string> read_string(const Field& field) {
  if (!field.value.IsScalar())
    return field.error("expected a string, got " + describe(field.value));
  return field.value.Scalar();
}

Result<std::int64_t> read_int(const Field& field, std::int64_t min, std::int64_t max) {
  const std::string range =
      "must be between " + std::to_string(min) + " and " + std::to_string(max);
  if (!field.value.IsScalar() || is_quoted(field.value)) {
    return field.error("expected an integer, got " + describe(field.value));
  }
  const std::string_view text = strip_plus(field.value.Scalar());
  bool digits = !text.empty();
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    digits = digits && ((c >= '0' && c <= '9') || (i == 0 && c == '-' && text.size() > 1));
  }
  if (!digits) return field.error("expected an integer, got " + describe(field.value));
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec == std::errc::result_out_of_range || value < min || value > max) {
    return field.error(range + ", got " + field.value.Scalar());
  }
  if (ec != std::errc() || end != text.data() + text.size()) {
    return field.error("expected an integer, got " + describe(field.value));
  }
  return value;
}

Result<double> read_number(const Field& field, double min_exclusive, double max_inclusive) {
  if (!field.value.IsScalar() || is_quoted(field.value)) {
    return field.error("expected a number, got " + describe(field.value));
  }
  const std::string_view text = strip_plus(field.value.Scalar());
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  // from_chars also accepts "nan" and "inf"; neither is a usable limit.
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() ||
      !std::isfinite(value)) {
    return field.error("expected a number, got " + describe(field.value));
  }
  if (!(value > min_exclusive) || value > max_inclusive) {
    std::string bound = "must be greater than " + format_number(min_exclusive);
    if (max_inclusive < std::numeric_limits<double>::max()) {
      bound += " and at most " + format_number(max_inclusive);
    }
    return field.error(bound + ", got " + field.value.Scalar());
  }
  return value;
}

Result<bool> read_bool(const Field& field) {
  // Only the YAML 1.2 core spellings: yes/no/on/off are YAML 1.1 and surprise people ("no" as a
  // country code, "on" as a word), so they are errors rather than booleans.
  static constexpr std::array<std::string_view, 3> kTrue = {"true", "True", "TRUE"};
  static constexpr std::array<std::string_view, 3> kFalse = {"false", "False", "FALSE"};
  if (field.value.IsScalar() && !is_quoted(field.value)) {
    const std::string& text = field.value.Scalar();
    for (std::string_view t : kTrue) {
      if (text == t) return true;
    }
    for (std::string_view f : kFalse) {
      if (text == f) return false;
    }
  }
  return field.error("expected true or false, got " + describe(field.value));
}

}  // namespace ignite::config::detail
