// POST /mcp: the MCP Streamable HTTP transport (stateless: every POST is answered with one JSON
// body, no session id, no server-to-client stream). The same tools as `ignite mcp`, behind the
// same API keys, rate limits and admission as every other route (and the same refusal of other
// sites' browser pages: server/browser_guard.hpp).
#include <memory>

#include "core/json_limits.hpp"
#include "mcp/ignite_tools.hpp"
#include "server/server_state.hpp"

namespace ignite::server {

void add_mcp_routes(ServerState& s) {
  auto tools = std::make_shared<mcp::IgniteTools>(s, &s.services, [&s] { return s.installed_runtimes(); });
  s.router.add("POST", "/mcp", Dispatch::blocking, [&s, tools](const Request& req, Response& res) {
    const std::string version = req.header("mcp-protocol-version");
    if (!version.empty() && !mcp::known_protocol_version(version))
      return send_json(res, 400, mcp::error_reply(nullptr, mcp::kInvalidRequest, "unsupported MCP-Protocol-Version " + version));
    auto message = parse_json_bounded(req.body);
    if (!message) return send_json(res, 400, mcp::error_reply(nullptr, mcp::kParseError, "parse error: " + message.error().message));
    mcp::Session session(*tools, IGNITE_VERSION);
    auto reply = session.handle(*message, s.stop_token());
    if (!reply) {  // a notification or a response: accepted, nothing to say
      res.status = 202;
      return;
    }
    send_json(res, 200, *reply);
  });
  // No server-to-client stream and no sessions to end (the transport allows both answers).
  for (const char* method : {"GET", "DELETE"}) {
    s.router.add(method, "/mcp", Dispatch::quick, [](const Request&, Response& res) {
      res.set_header("Allow", "POST");
      send_error(res, {405, "method_not_allowed", "/mcp takes POST (JSON-RPC messages, answered with JSON)"});
    });
  }
}

}  // namespace ignite::server
