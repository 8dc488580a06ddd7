#include "docker/engine_client.hpp"

#include <algorithm>
#include <cstdlib>
#include <chrono>
#include <initializer_list>
#include <thread>

#include "docker/unix_http.hpp"

namespace ignite::docker {
namespace {

using nlohmann::json;

constexpr std::size_t kErrorBody = 64 << 10;  // of an error response, what is kept

struct Reply {
  long status = 0;
  std::string body;
};

// Security: ids and names go into the request path. Docker's own alphabet (ids, names,
// references like "ignite/python:3.11" or "name@sha256:...") needs nothing else, and refusing
// '?', '#', '%', spaces and ".." keeps a caller's string from changing which endpoint is hit.
Status check_ref(std::string_view what, std::string_view ref) {
  if (ref.empty() || ref.size() > 512)
    return fail(ErrorCode::invalid_argument, "docker: " + std::string(what) + " must be 1 to 512 characters");
  for (char c : ref) {
    const bool fine = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '.' || c == '-' || c == ':' || c == '/' || c == '@';
    if (!fine)
      return fail(ErrorCode::invalid_argument, "docker: " + std::string(what) + " '" + std::string(ref) +
                                                   "' has a character outside [A-Za-z0-9_.:/@-]");
  }
  if (ref.find("..") != std::string_view::npos || ref.front() == '/')
    return fail(ErrorCode::invalid_argument, "docker: " + std::string(what) + " '" + std::string(ref) + "' is not a name");
  return ok();
}

// Daemon text in an error: one line, at most 1000 bytes. It can quote what a container or a
// Dockerfile step printed, so control characters become spaces.
std::string one_line(std::string_view text) {
  std::string out(text.substr(0, 1000));
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

// The daemon's `{"message": "..."}` as the error; the status picks the code.
Error daemon_error(std::string_view method, std::string_view target, const Reply& reply) {
  std::string message;
  const json parsed = json::parse(reply.body, nullptr, false);
  if (parsed.is_object() && parsed.contains("message") && parsed["message"].is_string())
    message = parsed["message"].get<std::string>();
  else
    message = reply.body.substr(0, 200);
  message = one_line(message);
  const ErrorCode code = reply.status == 400 || reply.status == 404 ? ErrorCode::invalid_argument
                         : reply.status == 409                      ? ErrorCode::failed_precondition
                         : reply.status == 401 || reply.status == 403 ? ErrorCode::permission_denied
                                                                      : ErrorCode::internal;
  return {code,
          "docker " + std::string(method) + " " + std::string(target) + ": HTTP " +
              std::to_string(reply.status) + (message.empty() ? "" : ": " + message),
          0};
}

}  // namespace

Result<std::string> socket_from_env() {
  const char* host = std::getenv("DOCKER_HOST");
  if (host == nullptr || *host == '\0') return std::string("/var/run/docker.sock");
  const std::string_view value(host);
  constexpr std::string_view kUnix = "unix://";
  if (value.substr(0, kUnix.size()) != kUnix || value.size() == kUnix.size())
    return fail(ErrorCode::unsupported, "DOCKER_HOST=" + std::string(value) +
                                            ": only a local unix:///path socket is supported");
  return std::string(value.substr(kUnix.size()));
}

EngineClient::EngineClient(EngineOptions options) : options_(std::move(options)) {}

Result<EngineClient> EngineClient::from_env() {
  IGNITE_TRY_ASSIGN(std::string socket, socket_from_env());
  EngineOptions options;
  options.socket_path = std::move(socket);
  return EngineClient(std::move(options));
}

namespace {

// One call whose whole body is kept (up to `cap`); HTTP errors become the daemon's message.
Result<Reply> call(const EngineOptions& o, std::string_view method, const std::string& path,
                   std::string_view body = {}, std::string_view content_type = {},
                   std::chrono::milliseconds timeout = std::chrono::milliseconds(-1),
                   std::initializer_list<long> also_fine = {}, const BodySource* source = nullptr) {
  HttpRequest request{method, "/" + o.api_version + path, body, content_type,
                      timeout.count() < 0 ? o.timeout : timeout, source};
  Reply reply;
  bool too_big = false;
  const std::size_t cap = o.max_body;
  IGNITE_TRY_ASSIGN(const HttpOutcome outcome,
                    unix_http(o.socket_path, request, [&](long status, std::string_view piece) {
                      const std::size_t limit = status >= 400 ? kErrorBody : cap;
                      if (reply.body.size() + piece.size() > limit) {
                        reply.body.append(piece.substr(0, limit - reply.body.size()));
                        too_big = status < 400;
                        return false;
                      }
                      reply.body.append(piece);
                      return true;
                    }));
  reply.status = outcome.status;
  if (too_big)
    return fail(ErrorCode::resource_exhausted, "docker " + std::string(method) + " " + request.target +
                                                   ": response larger than " + std::to_string(cap) + " bytes");
  for (long fine : also_fine)
    if (reply.status == fine) return reply;
  if (reply.status >= 400 || reply.status < 200) return Unexpected{daemon_error(method, request.target, reply)};
  return reply;
}

Result<json> parse(std::string_view what, const std::string& body) {
  json parsed = json::parse(body, nullptr, false);
  if (parsed.is_discarded()) return fail(ErrorCode::internal, "docker " + std::string(what) + ": the daemon's answer is not JSON");
  return parsed;
}

std::string labels_query(const Labels& labels) { return url_escape(json(labels).dump()); }

}  // namespace

Status EngineClient::ping() {
  IGNITE_TRY_ASSIGN(const Reply reply, call(options_, "GET", "/_ping"));
  if (reply.body != "OK") return fail(ErrorCode::unavailable, "docker /_ping answered '" + reply.body.substr(0, 80) + "'");
  return ok();
}

Result<json> EngineClient::version() {
  IGNITE_TRY_ASSIGN(const Reply reply, call(options_, "GET", "/version"));
  return parse("/version", reply.body);
}

Result<json> EngineClient::info() {
  IGNITE_TRY_ASSIGN(const Reply reply, call(options_, "GET", "/info"));
  return parse("/info", reply.body);
}

Result<std::string> EngineClient::create_container(const json& config, std::string_view name,
                                                   const Labels& labels) {
  if (!config.is_object()) return fail(ErrorCode::invalid_argument, "docker create: the config must be a JSON object");
  json body = config;
  if (!body.contains("Labels") || !body["Labels"].is_object()) body["Labels"] = json::object();
  for (const auto& [key, value] : labels) body["Labels"][key] = value;
  std::string path = "/containers/create";
  if (!name.empty()) {
    IGNITE_TRY(check_ref("container name", name));
    path += "?name=" + url_escape(name);
  }
  IGNITE_TRY_ASSIGN(const Reply reply, call(options_, "POST", path, body.dump(), "application/json"));
  IGNITE_TRY_ASSIGN(const json created, parse("create", reply.body));
  if (!created.is_object() || !created.contains("Id") || !created["Id"].is_string())
    return fail(ErrorCode::internal, "docker create: no Id in the daemon's answer");
  return created["Id"].get<std::string>();
}

Status EngineClient::start(std::string_view id) {
  IGNITE_TRY(check_ref("container id", id));
  IGNITE_TRY(call(options_, "POST", "/containers/" + std::string(id) + "/start"));  // 304: started
  return ok();
}

Result<WaitResult> EngineClient::wait(std::string_view id, std::chrono::milliseconds timeout) {
  IGNITE_TRY(check_ref("container id", id));
  IGNITE_TRY_ASSIGN(const Reply reply, call(options_, "POST", "/containers/" + std::string(id) + "/wait?condition=not-running",
                                            {}, {}, timeout));
  IGNITE_TRY_ASSIGN(const json done, parse("wait", reply.body));
  WaitResult result;
  if (done.is_object() && done.contains("StatusCode") && done["StatusCode"].is_number_integer())
    result.exit_code = done["StatusCode"].get<long>();
  else
    return fail(ErrorCode::internal, "docker wait: no StatusCode in the daemon's answer");
  if (done.contains("Error") && done["Error"].is_object() && done["Error"].contains("Message") &&
      done["Error"]["Message"].is_string())
    result.error = done["Error"]["Message"].get<std::string>();
  return result;
}

Result<Logs> EngineClient::logs(std::string_view id, std::size_t max_per_stream) {
  IGNITE_TRY(check_ref("container id", id));
  HttpRequest request{"GET", "/" + options_.api_version + "/containers/" + std::string(id) + "/logs?stdout=1&stderr=1",
                      {}, {}, options_.timeout};
  LogDemuxer demux(max_per_stream);
  Reply failure;
  bool malformed = false;
  IGNITE_TRY_ASSIGN(const HttpOutcome outcome,
                    unix_http(options_.socket_path, request, [&](long status, std::string_view piece) {
                      if (status >= 400) {  // the daemon's JSON error, not a log stream
                        failure.body.append(piece.substr(0, kErrorBody - std::min(kErrorBody, failure.body.size())));
                        return failure.body.size() < kErrorBody;
                      }
                      if (!demux.feed(piece)) {
                        malformed = true;
                        return false;
                      }
                      return !demux.saturated();
                    }));
  if (outcome.status >= 400) {
    failure.status = outcome.status;
    return Unexpected{daemon_error("GET", request.target, failure)};
  }
  if (malformed)
    return fail(ErrorCode::unsupported, "docker logs " + std::string(id) +
                                            ": not a multiplexed stream (was the container created with a TTY?)");
  return demux.take();
}

Result<json> EngineClient::inspect_container(std::string_view id) {
  IGNITE_TRY(check_ref("container id", id));
  IGNITE_TRY_ASSIGN(const Reply reply, call(options_, "GET", "/containers/" + std::string(id) + "/json"));
  return parse("inspect", reply.body);
}

Status EngineClient::kill(std::string_view id, std::string_view signal) {
  IGNITE_TRY(check_ref("container id", id));
  IGNITE_TRY(check_ref("signal", signal));
  // 409: not running; 404: gone. Either way nothing runs any more, which is what kill is for.
  IGNITE_TRY(call(options_, "POST", "/containers/" + std::string(id) + "/kill?signal=" + url_escape(signal), {}, {},
                  std::chrono::milliseconds(-1), {404, 409}));
  return ok();
}

Status EngineClient::remove(std::string_view id, bool force) {
  IGNITE_TRY(check_ref("container id", id));
  const std::string path = "/containers/" + std::string(id) + "?v=1&force=" + (force ? "1" : "0");
  // A forced remove can race the container's own exit inside dockerd: "HTTP 500: Could not kill
  // running container …, cannot remove - Container … is not running", or 409 "removal in
  // progress"; the container is left half-removed and a later DELETE succeeds (seen on
  // dockerd 20.10 under load). So a forced remove tries again for up to ~3 s; 404 = gone.
  auto delay = std::chrono::milliseconds(50);
  for (int attempt = 1;; ++attempt) {
    auto removed = call(options_, "DELETE", path, {}, {}, std::chrono::milliseconds(-1), {404});
    if (removed) return ok();
    const bool raced = removed.error().code == ErrorCode::internal || removed.error().code == ErrorCode::failed_precondition;
    if (!force || !raced || attempt == 7) return Unexpected{std::move(removed).error()};
    std::this_thread::sleep_for(delay);
    delay *= 2;
  }
}

Result<std::vector<std::string>> EngineClient::list_containers(std::string_view label_filter) {
  if (label_filter.empty()) return fail(ErrorCode::invalid_argument, "docker list: a label filter is required");
  const json filters = {{"label", json::array({std::string(label_filter)})}};
  IGNITE_TRY_ASSIGN(const Reply reply, call(options_, "GET", "/containers/json?all=1&filters=" + url_escape(filters.dump())));
  IGNITE_TRY_ASSIGN(const json listed, parse("list", reply.body));
  if (!listed.is_array()) return fail(ErrorCode::internal, "docker list: the daemon's answer is not an array");
  std::vector<std::string> ids;
  for (const json& c : listed)
    if (c.is_object() && c.contains("Id") && c["Id"].is_string()) ids.push_back(c["Id"].get<std::string>());
  return ids;
}

Result<std::string> EngineClient::build_image(std::string_view tar_context, std::string_view tag,
                                              const Labels& labels) {
  std::size_t at = 0;
  const BodySource source{tar_context.size(), [&](char* into, std::size_t room) -> Result<std::size_t> {
                            const std::string_view piece = tar_context.substr(at, room);
                            std::copy(piece.begin(), piece.end(), into);
                            at += piece.size();
                            return piece.size();
                          }};
  return build_image(source, tag, labels);
}

Result<std::string> EngineClient::build_image(const BodySource& tar_context, std::string_view tag,
                                              const Labels& labels, bool no_cache) {
  IGNITE_TRY(check_ref("image tag", tag));
  // rm/forcerm: intermediate containers go even when a step fails.
  const std::string path = "/build?t=" + url_escape(tag) + "&rm=1&forcerm=1&labels=" + labels_query(labels) +
                           (no_cache ? "&nocache=1" : "");
  IGNITE_TRY_ASSIGN(const Reply reply, call(options_, "POST", path, {}, "application/x-tar",
                                            options_.build_timeout, {}, &tar_context));
  // JSON lines: {"stream": ...} progress, {"aux": {"ID": ...}} the result, {"error": ...,
  // "errorDetail": ...} a failed step (the HTTP status is still 200 then).
  std::string image_id;
  std::size_t start = 0;
  while (start < reply.body.size()) {
    std::size_t end = reply.body.find('\n', start);
    if (end == std::string::npos) end = reply.body.size();
    const json line = json::parse(std::string_view(reply.body).substr(start, end - start), nullptr, false);
    start = end + 1;
    if (!line.is_object()) continue;
    if (line.contains("error")) {
      const std::string why = line["error"].is_string() ? line["error"].get<std::string>() : line["error"].dump();
      return fail(ErrorCode::failed_precondition, "docker build " + std::string(tag) + ": " + one_line(why));
    }
    if (line.contains("aux") && line["aux"].is_object() && line["aux"].contains("ID") && line["aux"]["ID"].is_string())
      image_id = line["aux"]["ID"].get<std::string>();
  }
  return image_id;
}

Result<json> EngineClient::inspect_image(std::string_view name) {
  IGNITE_TRY(check_ref("image", name));
  IGNITE_TRY_ASSIGN(const Reply reply, call(options_, "GET", "/images/" + std::string(name) + "/json"));
  return parse("image inspect", reply.body);
}

Result<std::vector<ImageSummary>> EngineClient::list_images(std::string_view label_filter) {
  if (label_filter.empty()) return fail(ErrorCode::invalid_argument, "docker images: a label filter is required");
  const json filters = {{"label", json::array({std::string(label_filter)})}};
  IGNITE_TRY_ASSIGN(const Reply reply, call(options_, "GET", "/images/json?filters=" + url_escape(filters.dump())));
  IGNITE_TRY_ASSIGN(const json listed, parse("images", reply.body));
  if (!listed.is_array()) return fail(ErrorCode::internal, "docker images: the daemon's answer is not an array");
  std::vector<ImageSummary> images;
  for (const json& i : listed) {
    if (!i.is_object() || !i.contains("Id") || !i["Id"].is_string()) continue;
    ImageSummary image;
    image.id = i["Id"].get<std::string>();
    if (i.contains("RepoTags") && i["RepoTags"].is_array())
      for (const json& t : i["RepoTags"])
        // API 1.41 lists an untagged (dangling) image as "<none>:<none>": that is no tag.
        if (t.is_string() && t.get<std::string>() != "<none>:<none>") image.tags.push_back(t.get<std::string>());
    if (i.contains("Size") && i["Size"].is_number_unsigned()) image.size_bytes = i["Size"].get<std::uint64_t>();
    if (i.contains("Labels") && i["Labels"].is_object())
      for (const auto& [key, value] : i["Labels"].items())
        if (value.is_string()) image.labels[key] = value.get<std::string>();
    images.push_back(std::move(image));
  }
  return images;
}

Status EngineClient::remove_image(std::string_view name, bool force) {
  IGNITE_TRY(check_ref("image", name));
  IGNITE_TRY(call(options_, "DELETE", "/images/" + std::string(name) + "?force=" + (force ? "1" : "0"), {}, {},
                  std::chrono::milliseconds(-1), {404}));
  return ok();
}

}  // namespace ignite::docker
