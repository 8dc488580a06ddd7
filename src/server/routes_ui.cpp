// GET / and /ui…: the web UI (playground, services, dashboard), served from the binary.
//
// Security: the UI's files carry no data and are the same for everyone, so they are served
// without an API key (a browser must load the login prompt before it has one); everything the
// UI shows comes from the API routes, under the same key, rate limit and admission as any
// client's requests. The CSP allows scripts, styles, images and connections from this server
// only and no inline script, so output a program prints can never run as code in the page
// (the UI also renders it as text only).
#include <memory>

#include "server/server_state.hpp"
#include "server/ui_assets.hpp"

namespace ignite::server {
namespace {

constexpr const char* kContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

void hardened(Response& res) {
  res.set_header("Content-Security-Policy", kContentSecurityPolicy);
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("X-Frame-Options", "DENY");
  res.set_header("Referrer-Policy", "no-referrer");
  res.set_header("Cache-Control", "no-cache");
}

void redirect(Response& res, const char* to) {
  res.status = 302;
  res.set_header("Location", to);
  res.set_body("", "text/plain; charset=utf-8");
}

}  // namespace

bool is_public(std::string_view method, std::string_view path) {
  if (method != "GET") return false;
  if (path == "/" || path == "/ui") return true;
  for (const UiAsset& asset : ui_assets())
    if (path == asset.path) return true;
  return path == "/ui/";  // also when the UI is unavailable: the answer says so, keyless
}

void add_ui_routes(ServerState& s) {
  s.router.add("GET", "/", Dispatch::quick, [](const Request&, Response& res) { redirect(res, "/ui/"); });
  s.router.add("GET", "/ui", Dispatch::quick, [](const Request&, Response& res) { redirect(res, "/ui/"); });
  if (ui_assets().empty()) {
    s.router.add("GET", "/ui/", Dispatch::quick, [](const Request&, Response& res) {
      send_error(res, {404, "ui_unavailable",
                       "the web UI is unavailable: this ignite was built without its assets (node and "
                       "web/node_modules at build time); the API works as documented at /openapi.json"});
    });
    return;
  }
  for (const UiAsset& asset : ui_assets()) {
    auto body = std::make_shared<const std::string>(asset.body);
    s.router.add("GET", asset.path, Dispatch::quick,
                 [body, type = std::string(asset.content_type)](const Request&, Response& res) {
                   res.set_shared_body(body, type);
                   hardened(res);
                 });
  }
}

}  // namespace ignite::server
