// service.yaml: loading, schema checks and defaults (CONTRACT §1).
#include "config/service_config.hpp"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <limits>
#include <optional>
#include <system_error>
#include <unordered_set>

#include "config/service_files.hpp"
#include "config/yaml_documents.hpp"
#include "config/yaml_fields.hpp"
#include "core/number_text.hpp"
#include "core/spec.hpp"

namespace ignite::config {

namespace fs = std::filesystem;
using detail::Field;

namespace {

constexpr std::array<std::string_view, 2> kTopKeys = {"service", "preflight"};
constexpr std::array<std::string_view, 14> kServiceKeys = {"name",     "runtime",   "entry",
                                                           "memoryMb", "timeoutMs", "cpuLimit",
                                                           "network",  "env",       "dependencies",
                                                           "installScripts", "isolation", "image",
                                                           "profile",  "pip"};
constexpr std::array<std::string_view, 3> kPipKeys = {"indexUrl", "findLinks", "noIndex"};
constexpr std::array<std::string_view, 1> kPreflightKeys = {"memory"};
constexpr std::array<std::string_view, 4> kMemoryKeys = {"baseMb", "perDependencyMb", "warnRatio",
                                                         "failRatio"};

// Large enough for any honest service.yaml, small enough that a stray multi-GB file is refused
// before yaml-cpp tries to build a tree from it.
constexpr std::uintmax_t kMaxServiceYamlBytes = 1u << 20;

constexpr double kUnbounded = std::numeric_limits<double>::max();
// The most cores a service may ask for (the native backend's ceiling).
constexpr double kMaxCpuLimit = 64;

// All of service.env together ("NAME=value" strings): far above any honest use, and below what
// execve accepts (a quarter of the 8 MiB stack limit for argv and environment together).
constexpr std::size_t kMaxEnvBytes = 1u << 20;

Status parse_env(const Field& field, const EnvLookup& env, ServiceConfig& out) {
  IGNITE_TRY_ASSIGN(const std::vector<Field> vars, detail::map_entries_any(field));
  std::size_t total = 0;
  for (const Field& var : vars) {
    const std::string name(var.key);
    if (!valid_env_name(name)) {
      return var.error(
          "invalid variable name (expected letters, digits and '_', not starting "
          "with a digit)");
    }
    // IGNITE_INPUT, IGNITE_INPUT_FILE, IGNITE_SERVICE: set by Ignite for the run. A service
    // value would come first in the environment and win getenv() over ours.
    if (name.rfind("IGNITE_", 0) == 0) {
      return var.error(name + " is reserved: Ignite sets IGNITE_* variables for the run");
    }
    if (!var.value.IsScalar()) {
      const std::string hint = var.value.IsNull() ? " (write \"\" for an empty value)" : "";
      return var.error("expected a string, got " + detail::describe(var.value) + hint);
    }
    Result<std::string> expanded = expand_env(var.value.Scalar(), env);
    if (!expanded) return var.error(expanded.error().message);
    // execve cannot pass a NUL inside a value; a "\0" escape in YAML would truncate silently.
    if (expanded->find('\0') != std::string::npos) return var.error("value contains a NUL byte");
    // Security: YAML aliases ("V2: *big") repeat one value for free; without a total, a 1 MiB
    // file became gigabytes of environment in the loader.
    total += name.size() + expanded->size() + 2;  // "NAME=value\0"
    if (total > kMaxEnvBytes) {
      return var.error("the environment is larger than " + std::to_string(kMaxEnvBytes) +
                       " bytes in total");
    }
    out.env.emplace_back(name, std::move(*expanded));
  }
  return ok();
}

Status parse_dependencies(const Field& field, ServiceConfig& out) {
  IGNITE_TRY_ASSIGN(const std::vector<Field> items, detail::list_items(field));
  std::unordered_set<std::string> seen;
  for (const Field& item : items) {
    IGNITE_TRY_ASSIGN(std::string dep, detail::read_string(item));
    if (dep.empty()) return item.error("dependency name must not be empty");
    for (char c : dep) {
      if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
        return item.error("dependency name must not contain spaces or control characters");
      }
    }
    // A set, not a scan of the list so far: that made a long list quadratic. (It also stops
    // aliases from repeating one long name: a repeat is a duplicate.)
    if (!seen.insert(dep).second) return item.error("duplicate dependency '" + dep + "'");
    out.dependencies.push_back(std::move(dep));
  }
  out.dependencies_declared = true;
  return ok();
}

bool http_url(std::string_view text) {
  const bool scheme = text.rfind("https://", 0) == 0 || text.rfind("http://", 0) == 0;
  return scheme && text.size() <= 2048 &&
         std::none_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; });
}

// `pip:` — where the install step's pip looks. A local findLinks dir must lie inside the service
// dir (it is copied into the step, and its files are part of the cache key).
Status parse_pip(const Field& field, const fs::path& dir, PipConfig& out) {
  IGNITE_TRY_ASSIGN(const std::vector<Field> keys, detail::map_entries(field, kPipKeys));
  for (const Field& key : keys) {
    if (key.key == "indexUrl") {
      IGNITE_TRY_ASSIGN(out.index_url, detail::read_string(key));
      if (!http_url(out.index_url)) return key.error("expected an http:// or https:// URL");
    } else if (key.key == "noIndex") {
      IGNITE_TRY_ASSIGN(out.no_index, detail::read_bool(key));
    } else {
      IGNITE_TRY_ASSIGN(const std::vector<Field> items, detail::list_items(key));
      if (items.size() > PipConfig::kMaxFindLinks)
        return key.error("at most " + std::to_string(PipConfig::kMaxFindLinks) + " entries");
      for (const Field& item : items) {
        PipConfig::FindLinks link;
        IGNITE_TRY_ASSIGN(link.text, detail::read_string(item));
        if (!http_url(link.text)) {
          // Security: one name, so the step's O_NOFOLLOW open of it is the whole check — a
          // deeper path could have a parent swapped for a link between this check and the copy.
          std::error_code ec;
          if (link.text.empty() || link.text == "." || link.text == ".." || link.text.find('/') != std::string::npos)
            return item.error("expected an http(s) URL or the name of a directory in the service directory, got '" +
                              link.text + "'");
          link.dir = dir / link.text;
          if (!fs::is_directory(fs::symlink_status(link.dir, ec)))
            return item.error("'" + link.text + "' is not a directory in the service directory (a link is not followed)");
        }
        out.find_links.push_back(std::move(link));
      }
    }
  }
  if (out.no_index && out.find_links.empty())
    return field.child("noIndex", field.line, {}).error("noIndex needs findLinks (pip would have nowhere to look)");
  return ok();
}

Status parse_preflight(const Field& field, PreflightThresholds& out) {
  IGNITE_TRY_ASSIGN(const std::vector<Field> sections, detail::map_entries(field, kPreflightKeys));
  for (const Field& section : sections) {
    // Only "memory" exists today; map_entries has already rejected anything else.
    IGNITE_TRY_ASSIGN(const std::vector<Field> keys, detail::map_entries(section, kMemoryKeys));
    MemoryThresholds& mem = out.memory;
    const Field* ratio_field = nullptr;  // where an ordering error points
    for (const Field& key : keys) {
      IGNITE_TRY_ASSIGN(const double value, detail::read_number(key, 0, kUnbounded));
      const std::string_view name = key.key;
      if (name == "baseMb") {
        mem.base_mb = value;
      } else if (name == "perDependencyMb") {
        mem.per_dependency_mb = value;
      } else if (name == "warnRatio") {
        mem.warn_ratio = value;
        if (ratio_field == nullptr) ratio_field = &key;
      } else {
        mem.fail_ratio = value;
        ratio_field = &key;
      }
    }
    // Failing happens below fail_ratio and warning below warn_ratio, so the fail band must lie
    // under the warn band or "warn" could never be reported.
    if (!(mem.fail_ratio < mem.warn_ratio)) {
      const Field& at = ratio_field != nullptr ? *ratio_field : section;
      return Field{at.file, section.path, section.key, at.line, section.value}.error(
          "failRatio (" + format_number(mem.fail_ratio) +
          ") must be less than warnRatio (" + format_number(mem.warn_ratio) + ")");
    }
  }
  return ok();
}

Status parse_service_map(const Field& service, const fs::path& dir, const EnvLookup& env,
                         ServiceConfig& out) {
  IGNITE_TRY_ASSIGN(const std::vector<Field> keys, detail::map_entries(service, kServiceKeys));
  bool have_name = false;
  bool have_entry = false;
  bool have_dependencies = false;
  std::optional<Field> pip_field;
  for (const Field& key : keys) {
    const std::string_view name = key.key;
    if (name == "name") {
      IGNITE_TRY_ASSIGN(out.name, detail::read_string(key));
      if (!valid_service_name(out.name)) {
        return key.error("'" + out.name +
                         "' is not a valid service name (1-63 lowercase letters, digits and '-', "
                         "starting and ending with a letter or digit)");
      }
      have_name = true;
    } else if (name == "runtime") {
      IGNITE_TRY_ASSIGN(const std::string text, detail::read_string(key));
      Result<RuntimeRef> ref = parse_runtime_ref(text);
      if (!ref) return key.error(ref.error().message);
      out.runtime = std::move(*ref);
    } else if (name == "entry") {
      IGNITE_TRY_ASSIGN(out.entry, detail::read_string(key));
      Result<fs::path> path = detail::resolve_entry(dir, out.entry);
      if (!path) return key.error(path.error().message);
      out.entry_path = std::move(*path);
      have_entry = true;
    } else if (name == "memoryMb") {
      IGNITE_TRY_ASSIGN(const std::int64_t mb, detail::read_int(key, 16, 65536));
      out.memory_mb = static_cast<std::uint32_t>(mb);
    } else if (name == "timeoutMs") {
      IGNITE_TRY_ASSIGN(const std::int64_t ms, detail::read_int(key, 100, 3600000));
      out.timeout_ms = static_cast<std::uint32_t>(ms);
    } else if (name == "cpuLimit") {
      // The kernel's bounds are checked here, with file and line, rather than met as EINVAL
      // from the cgroup at run time.
      IGNITE_TRY_ASSIGN(out.cpu_limit, detail::read_number(key, -kUnbounded, kUnbounded));
      if (!(out.cpu_limit >= kMinCpuCores && out.cpu_limit <= kMaxCpuLimit)) {
        return key.error("must be between " + format_number(kMinCpuCores) + " and " +
                         format_number(kMaxCpuLimit) + " (" + std::string(kMinCpuCoresReason) +
                         "), got " + key.value.Scalar());
      }
    } else if (name == "network") {
      IGNITE_TRY_ASSIGN(out.network, detail::read_bool(key));
    } else if (name == "isolation") {
      IGNITE_TRY_ASSIGN(out.isolation, detail::read_string(key));
      if (!valid_isolation(out.isolation))
        return key.error("'" + out.isolation + "' is not an isolation backend (native, docker or microvm)");
    } else if (name == "image") {
      IGNITE_TRY_ASSIGN(out.image, detail::read_string(key));
      if (!valid_image_name(out.image))
        return key.error("'" + out.image + "' is not a local image name ([a-z0-9] then [A-Za-z0-9._/:@-], at most 255)");
    } else if (name == "profile") {
      IGNITE_TRY_ASSIGN(out.profile, detail::read_string(key));
      if (out.profile.empty() || out.profile.size() > 64 ||
          out.profile.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") != std::string::npos)
        return key.error("'" + out.profile + "' is not a profile name (lowercase letters, digits and '-')");
    } else if (name == "pip") {
      IGNITE_TRY(parse_pip(key, dir, out.pip));
      pip_field = key;
    } else if (name == "installScripts") {
      IGNITE_TRY_ASSIGN(out.install_scripts, detail::read_bool(key));
    } else if (name == "env") {
      IGNITE_TRY(parse_env(key, env, out));
    } else if (name == "dependencies") {
      // "dependencies:" with no value counts as absent, so detection still applies.
      if (!key.value.IsNull()) IGNITE_TRY(parse_dependencies(key, out));
      have_dependencies = !key.value.IsNull();
    }
  }
  if (!out.image.empty() && out.isolation != "docker")
    return service.child("image", service.line, {}).error("an image is for isolation: docker only");
  if (!have_name) return service.child("name", service.line, {}).error("missing required key");
  if (!have_entry) return service.child("entry", service.line, {}).error("missing required key");
  const bool python = out.runtime.name == "python";
  if (pip_field && !python) return pip_field->error("pip is for runtime: python only");
  if (!have_dependencies) {
    IGNITE_TRY_ASSIGN(out.dependencies, python ? detail::detect_requirements(dir) : detail::detect_dependencies(dir));
    out.dependencies_declared = false;
  }
  return ok();
}

Result<ServiceConfig> parse_document(std::string_view yaml_text, const std::string& file,
                                     const fs::path& dir, const EnvLookup& env) {
  // Not YAML::LoadAll: it never returns on some inputs (see yaml_documents.hpp).
  const detail::YamlDocuments docs = detail::load_documents(std::string(yaml_text));
  const Field root{file, "", "", docs.first.IsDefined() ? detail::line_of(docs.first, 1) : 1,
                   docs.first};
  if (docs.non_empty == 0) return root.error("file is empty (expected a 'service' map)");
  if (docs.non_empty > 1 || !docs.first_is_leading) {
    return Field{file, "", "", docs.second_line, YAML::Node()}.error(
        "expected a single YAML document, found " + std::to_string(std::max(docs.non_empty, 2)));
  }
  if (!root.value.IsMap()) {
    return root.error("expected a map with a 'service' key, got " + detail::describe(root.value));
  }
  IGNITE_TRY_ASSIGN(const std::vector<Field> top, detail::map_entries(root, kTopKeys));

  ServiceConfig out;
  out.dir = dir;
  bool have_service = false;
  for (const Field& section : top) {
    if (section.key == "service") {
      if (!section.value.IsMap()) {
        return section.error("expected a map, got " + detail::describe(section.value));
      }
      IGNITE_TRY(parse_service_map(section, dir, env, out));
      have_service = true;
    } else {
      IGNITE_TRY(parse_preflight(section, out.preflight));
    }
  }
  if (!have_service) return root.child("service", root.line, {}).error("missing required key");
  return out;
}

}  // namespace

bool valid_isolation(std::string_view name) { return name == "native" || name == "docker" || name == "microvm"; }

bool valid_image_name(std::string_view name) {
  if (name.empty() || name.size() > 255) return false;
  const auto lower_or_digit = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!lower_or_digit(name.front())) return false;
  for (char c : name) {
    // Uppercase only in a tag; the daemon refuses it elsewhere with its own message.
    if (!lower_or_digit(c) && !(c >= 'A' && c <= 'Z') && c != '.' && c != '_' && c != '/' && c != ':' &&
        c != '@' && c != '-')
      return false;
  }
  return name.find("..") == std::string_view::npos;
}

Result<ServiceConfig> parse_service(std::string_view yaml_text, const fs::path& file,
                                    const fs::path& dir, const EnvLookup& env) {
  const std::string shown = file.string();
  // Exceptions stop here: yaml-cpp reports syntax errors by throwing, callers get values.
  try {
    std::error_code ec;
    const fs::path canonical_dir = fs::canonical(dir, ec);
    if (ec || !fs::is_directory(canonical_dir)) {
      return fail(ErrorCode::invalid_argument,
                  shown + ": service directory " + dir.string() + ": " +
                      (ec ? ec.message() : std::string("not a directory")));
    }
    return parse_document(yaml_text, shown, canonical_dir, env);
  } catch (const YAML::ParserException& e) {
    const int line = e.mark.is_null() || e.mark.line < 0 ? 1 : e.mark.line + 1;
    return fail(ErrorCode::invalid_argument,
                shown + ":" + std::to_string(line) + ": invalid YAML: " + e.msg);
  } catch (const YAML::Exception& e) {
    return fail(ErrorCode::internal, shown + ": reading YAML: " + e.what());
  } catch (const std::exception& e) {
    return fail(ErrorCode::internal, shown + ": " + e.what());
  }
}

Result<ServiceConfig> load_service(const fs::path& dir, const EnvLookup& env) {
  try {
    std::error_code ec;
    const fs::path canonical_dir = fs::canonical(dir, ec);
    if (ec || !fs::is_directory(canonical_dir)) {
      return fail(ErrorCode::invalid_argument,
                  "load service: no service.yaml in " + dir.string() +
                      (ec ? " (" + ec.message() + ")" : std::string(" (not a directory)")));
    }
    const fs::path yaml = canonical_dir / "service.yaml";
    const fs::path yml = canonical_dir / "service.yml";
    const bool has_yaml = fs::exists(fs::symlink_status(yaml, ec));
    const bool has_yml = fs::exists(fs::symlink_status(yml, ec));
    if (has_yaml && has_yml) {
      // Refuse to pick one: whichever we ignored is the one someone will edit next.
      return fail(ErrorCode::invalid_argument,
                  "load service: both service.yaml and service.yml "
                  "exist in " +
                      canonical_dir.string() + "; remove one");
    }
    if (!has_yaml && !has_yml) {
      return fail(ErrorCode::invalid_argument,
                  "load service: no service.yaml in " + canonical_dir.string());
    }
    const fs::path file = has_yaml ? yaml : yml;
    // The config is read by Ignite itself, outside any sandbox, so it must not be a link to
    // some other file on the host whose contents would then be echoed in error messages.
    const fs::path resolved = fs::canonical(file, ec);
    if (ec) {
      return fail(ErrorCode::invalid_argument, file.string() + ": cannot resolve: " + ec.message());
    }
    if (!detail::path_within(canonical_dir, resolved)) {
      return fail(ErrorCode::invalid_argument,
                  file.string() + ": resolves outside the service directory");
    }
    IGNITE_TRY_ASSIGN(const std::string text,
                      detail::read_small_file(resolved, kMaxServiceYamlBytes));
    return parse_service(text, file, canonical_dir, env);
  } catch (const std::exception& e) {
    return fail(ErrorCode::internal, "load service " + dir.string() + ": " + e.what());
  }
}

}  // namespace ignite::config
