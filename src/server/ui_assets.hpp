// The web UI's files (web/, bundled at build time by web/build.mjs), compiled into the binary so
// the server needs no directory and no outside host to serve them. Empty when the build had no
// node or no web/node_modules: the server then says the UI is unavailable; the API is the same.
#pragma once
#include <span>
#include <string_view>

namespace ignite::server {

struct UiAsset {
  std::string_view path;          // "/ui/app.js"
  std::string_view content_type;  // "text/javascript; charset=utf-8"
  std::string_view body;
};

std::span<const UiAsset> ui_assets();

}  // namespace ignite::server
