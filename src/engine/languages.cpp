#include "engine/languages.hpp"

#include "runtime/descriptors.hpp"

namespace ignite::engine {

Result<config::RuntimeRef> runtime_for_language(std::string_view language, std::string_view version) {
  std::string name(language);
  if (name == "javascript" || name == "js" || name == "typescript" || name == "ts") name = "bun";
  if (name == "py" || name == "python3") name = "python";
  if (name == "golang") name = "go";
  std::string text = version.empty() || version == "*" ? name : name + "@" + std::string(version);
  return config::parse_runtime_ref(text);
}

std::string entry_name_for(std::string_view language, const config::RuntimeRef& runtime) {
  if (language == "typescript" || language == "ts") return "main.ts";
  if (language == "javascript" || language == "js") return "main.js";
  const auto* d = runtime::find_descriptor(runtime.name);
  return d != nullptr && !d->default_entry.empty() ? d->default_entry : "main";
}

}  // namespace ignite::engine
