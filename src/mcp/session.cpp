#include "mcp/session.hpp"

#include <array>
#include <exception>

namespace ignite::mcp {
namespace {

using json = nlohmann::json;


bool valid_id(const json& id) { return id.is_string() || id.is_number_integer() || id.is_number_unsigned(); }

json reply(const json& id, json result) { return {{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}}; }

}  // namespace

bool known_protocol_version(std::string_view version) {
  static constexpr std::array<std::string_view, 4> kKnown = {"2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05"};
  for (auto v : kKnown)
    if (v == version) return true;
  return false;
}

json error_reply(const json& id, int code, std::string message) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"error", {{"code", code}, {"message", std::move(message)}}}};
}

MessageKind classify(const json& message) {
  MessageKind kind;
  if (!message.is_object()) return kind;
  auto method = message.find("method");
  if (method == message.end() || !method->is_string()) return kind;
  auto id = message.find("id");
  if (id != message.end() && valid_id(*id)) {
    kind.id = *id;
    kind.tool_call = *method == "tools/call";
  } else if (*method == "notifications/cancelled") {
    auto params = message.find("params");
    if (params != message.end() && params->is_object()) {
      auto target = params->find("requestId");
      if (target != params->end() && valid_id(*target)) kind.cancels = *target;
    }
  }
  return kind;
}

std::optional<json> Session::handle(const json& message, std::stop_token stop) {
  if (!message.is_object())
    return error_reply(nullptr, kInvalidRequest,
                       message.is_array() ? "batches are not part of MCP: send one message at a time"
                                          : "a message must be a JSON object");
  const auto id_it = message.find("id");
  const bool has_id = id_it != message.end();
  const json id = has_id && valid_id(*id_it) ? *id_it : json(nullptr);
  const auto rpc = message.find("jsonrpc");
  if (rpc == message.end() || *rpc != "2.0") return error_reply(id, kInvalidRequest, "\"jsonrpc\" must be \"2.0\"");
  const auto method_it = message.find("method");
  if (method_it == message.end()) return std::nullopt;  // a response: we send no requests
  if (!method_it->is_string()) return error_reply(id, kInvalidRequest, "\"method\" must be a string");
  const std::string method = *method_it;
  if (has_id && !valid_id(*id_it)) return error_reply(nullptr, kInvalidRequest, "\"id\" must be a string or an integer");
  json params = json::object();
  if (auto p = message.find("params"); p != message.end()) {
    if (!p->is_object()) {
      if (!has_id) return std::nullopt;
      return error_reply(id, kInvalidParams, "\"params\" must be an object");
    }
    params = *p;
  }
  if (!has_id) return std::nullopt;  // notifications: initialized, cancelled (the transport's), others
  try {
    Outcome outcome = dispatch(method, params, stop);
    if (auto* e = std::get_if<RpcError>(&outcome)) return error_reply(id, e->code, std::move(e->message));
    return reply(id, std::move(std::get<json>(outcome)));
  } catch (const std::exception& e) {  // nlohmann::json's, from a tool's result: a bug of ours
    return error_reply(id, kInternalError, std::string("internal error: ") + e.what());
  }
}

Session::Outcome Session::dispatch(const std::string& method, const json& params, std::stop_token stop) {
  if (method == "initialize") {
    auto v = params.find("protocolVersion");
    if (v == params.end() || !v->is_string()) return RpcError{kInvalidParams, "initialize: \"protocolVersion\" must be a string"};
    const std::string asked = *v;
    version_ = known_protocol_version(asked) ? asked : std::string(kLatestProtocolVersion);
    return json{{"protocolVersion", version_},
            {"capabilities", {{"tools", {{"listChanged", false}}}}},
            {"serverInfo", {{"name", "ignite"}, {"title", "Ignite"}, {"version", server_version_}}},
            {"instructions",
             "Runs code in a sandbox (namespaces, cgroup limits, seccomp; no network) and returns its output "
             "and exact metrics. run_code: a program in python, node, bun, deno, quickjs or go; "
             "run_service: a service by name; list_runtimes / list_services say what exists."}};
  }
  if (method == "ping") return json::object();
  if (method == "tools/list") return json{{"tools", tools_.list()}};
  if (method == "tools/call") {
    auto name = params.find("name");
    if (name == params.end() || !name->is_string()) return RpcError{kInvalidParams, "tools/call: \"name\" must be a string"};
    json arguments = json::object();
    if (auto a = params.find("arguments"); a != params.end() && !a->is_null()) {
      if (!a->is_object()) return RpcError{kInvalidParams, "tools/call: \"arguments\" must be an object"};
      arguments = *a;
    }
    auto result = tools_.call(*name, arguments, stop);
    if (!result) return RpcError{kInvalidParams, "unknown tool: " + name->get<std::string>()};
    return std::move(*result);
  }
  return RpcError{kMethodNotFound, "method not found: " + method};
}

}  // namespace ignite::mcp
