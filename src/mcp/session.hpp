// One MCP session: JSON-RPC 2.0 messages in, replies out, following the MCP specification
// (lifecycle: initialize / notifications/initialized / ping; tools: tools/list, tools/call).
// Pure: no I/O, no threads; the transports (stdio, Streamable HTTP) frame the messages, run
// tool calls concurrently and route cancellations. Unit-tested with a fake Tools.
#pragma once
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

namespace ignite::mcp {

// The protocol revisions this server speaks; the newest is answered to a client that asks for
// one we do not know (the client then decides whether it can go on).
inline constexpr std::string_view kLatestProtocolVersion = "2025-11-25";
bool known_protocol_version(std::string_view version);

// JSON-RPC error codes (JSON-RPC 2.0 §5.1).
inline constexpr int kParseError = -32700;
inline constexpr int kInvalidRequest = -32600;
inline constexpr int kMethodNotFound = -32601;
inline constexpr int kInvalidParams = -32602;
inline constexpr int kInternalError = -32603;

// The tools a session offers (Ignite's: mcp/ignite_tools.hpp).
class Tools {
 public:
  virtual ~Tools() = default;
  // The "tools" array of a tools/list result: name, description, inputSchema, outputSchema...
  virtual nlohmann::json list() = 0;
  // A CallToolResult ({"content":[...], "structuredContent"?, "isError"?}); nullopt when no
  // tool has this name. Failures of the tool itself are results with "isError": true, so that
  // the model sees them; `stop` is set when the client cancels the call.
  virtual std::optional<nlohmann::json> call(const std::string& name, const nlohmann::json& arguments,
                                             std::stop_token stop) = 0;
};

class Session {
 public:
  Session(Tools& tools, std::string server_version) : tools_(tools), server_version_(std::move(server_version)) {}

  // The reply to one message from the client, or nullopt when none is due (a notification, or
  // a response to a request of ours). Never throws: a malformed message gets an error reply.
  std::optional<nlohmann::json> handle(const nlohmann::json& message, std::stop_token stop = {});

  // The protocol version agreed in initialize ("" before it).
  const std::string& protocol_version() const { return version_; }

 private:
  struct RpcError {
    int code;
    std::string message;
  };
  using Outcome = std::variant<nlohmann::json, RpcError>;
  Outcome dispatch(const std::string& method, const nlohmann::json& params, std::stop_token stop);

  Tools& tools_;
  std::string server_version_;
  std::string version_;
};

// {"jsonrpc":"2.0","id":id,"error":{"code":code,"message":message}} (id null when unknown).
nlohmann::json error_reply(const nlohmann::json& id, int code, std::string message);

// What a transport needs to know of a message before handing it over.
struct MessageKind {
  bool tool_call = false;          // a tools/call request (worth running on its own thread)
  std::optional<nlohmann::json> cancels;  // notifications/cancelled: the requestId it names
  std::optional<nlohmann::json> id;       // a request's id
};
MessageKind classify(const nlohmann::json& message);

}  // namespace ignite::mcp
