// Language names as HTTP and CLI clients give them, mapped to our runtimes. Pure and free of the
// engine's I/O, so the request decoders (and their fuzz target) can use it alone.
#pragma once
#include <string>
#include <string_view>

#include "config/service_config.hpp"
#include "core/result.hpp"

namespace ignite::engine {

// Maps a language or runtime name (Ignis/Piston style: python, go, javascript, typescript,
// bun, node, deno, quickjs; "js", "ts", "py" too) and an optional version to a runtime ref.
Result<config::RuntimeRef> runtime_for_language(std::string_view language, std::string_view version);

// The entry file name for inline code: typescript/javascript decide the extension where one
// runtime runs both (bun), else the runtime's default entry ("main.py").
std::string entry_name_for(std::string_view language, const config::RuntimeRef& runtime);

}  // namespace ignite::engine
