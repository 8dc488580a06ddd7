#include "config/pool_file.hpp"

#include <array>
#include <charconv>

#include "config/service_files.hpp"
#include "config/yaml_documents.hpp"
#include "config/yaml_fields.hpp"

namespace ignite::config {
namespace {

using detail::Field;

constexpr std::uint32_t kMaxSlots = 256;
constexpr std::array<std::string_view, 3> kTopKeys = {"pools", "memoryMb", "idleSeconds"};
constexpr std::array<std::string_view, 2> kBoundKeys = {"min", "max"};

bool parse_count(std::string_view text, std::uint32_t& out) {
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && p == text.data() + text.size() && !text.empty();
}

// "2..16", "4" (4..4), or {min, max}.
Result<std::pair<std::uint32_t, std::uint32_t>> parse_bounds(const Field& f) {
  std::uint32_t min = 0, max = 0;
  if (f.value.IsMap()) {
    IGNITE_TRY_ASSIGN(const std::vector<Field> keys, detail::map_entries(f, kBoundKeys));
    bool have_max = false;
    for (const Field& k : keys) {
      IGNITE_TRY_ASSIGN(std::int64_t v, detail::read_int(k, 0, kMaxSlots));
      (k.key == "min" ? min : max) = static_cast<std::uint32_t>(v);
      have_max = have_max || k.key == "max";
    }
    if (!have_max) return f.child("max", f.line, {}).error("missing required key");
  } else if (f.value.IsScalar()) {
    const std::string text = f.value.Scalar();
    const auto dots = text.find("..");
    const bool okay = dots == std::string::npos
                          ? parse_count(text, min) && (max = min, true)
                          : parse_count(std::string_view(text).substr(0, dots), min) &&
                                parse_count(std::string_view(text).substr(dots + 2), max);
    if (!okay) return f.error("expected MIN..MAX (e.g. 2..16), a number or {min, max}, got '" + text + "'");
  } else {
    return f.error("expected MIN..MAX, a number or {min, max}, got " + detail::describe(f.value));
  }
  if (max > kMaxSlots) return f.error("at most " + std::to_string(kMaxSlots) + " slots per pool");
  if (max < min) return f.error("max (" + std::to_string(max) + ") is below min (" + std::to_string(min) + ")");
  return std::pair{min, max};
}

}  // namespace

Result<PoolFile> parse_pool_file(std::string_view yaml_text, const std::string& shown) {
  try {
    const detail::YamlDocuments docs = detail::load_documents(std::string(yaml_text));
    const Field root{shown, "", "", docs.first.IsDefined() ? detail::line_of(docs.first, 1) : 1, docs.first};
    if (docs.non_empty != 1 || !root.value.IsMap())
      return root.error("expected one map with 'pools', 'memoryMb', 'idleSeconds'");
    PoolFile out;
    IGNITE_TRY_ASSIGN(const std::vector<Field> top, detail::map_entries(root, kTopKeys));
    for (const Field& f : top) {
      if (f.key == "memoryMb") {
        IGNITE_TRY_ASSIGN(std::int64_t v, detail::read_int(f, 16, 1 << 20));
        out.memory_mb = static_cast<std::uint32_t>(v);
      } else if (f.key == "idleSeconds") {
        IGNITE_TRY_ASSIGN(std::int64_t v, detail::read_int(f, 1, 86400));
        out.idle_seconds = static_cast<std::uint32_t>(v);
      } else {
        if (!f.value.IsMap() && !f.value.IsNull()) return f.error("expected a map of runtime: MIN..MAX");
        if (f.value.IsNull()) continue;
        IGNITE_TRY_ASSIGN(const std::vector<Field> pools, detail::map_entries_any(f));
        for (const Field& p : pools) {
          IGNITE_TRY_ASSIGN(auto bounds, parse_bounds(p));
          out.runtimes[p.key] = bounds;
        }
      }
    }
    return out;
  } catch (const YAML::Exception& e) {
    return fail(ErrorCode::invalid_argument, shown + ":" + std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
}

Result<PoolFile> load_pool_file(const std::filesystem::path& path) {
  IGNITE_TRY_ASSIGN(std::string text, detail::read_small_file(path, 1 << 20));
  return parse_pool_file(text, path.string());
}

}  // namespace ignite::config
