#include "docker/unix_http.hpp"

#include "docker/curl_api.hpp"

#include <algorithm>
#include <memory>
#include <mutex>
#include <optional>

namespace ignite::docker {
namespace {

// Handles exist only after curl_api() loaded libcurl, so the deleters may use the table.
const CurlApi& loaded() { return *curl_api().value(); }

struct EasyDeleter {
  void operator()(CURL* h) const { loaded().curl_easy_cleanup(h); }
};
struct ListDeleter {
  void operator()(curl_slist* l) const { loaded().curl_slist_free_all(l); }
};
using Easy = std::unique_ptr<CURL, EasyDeleter>;
using HeaderList = std::unique_ptr<curl_slist, ListDeleter>;

// curl_global_init is not thread-safe (libcurl 7.88): once per process, before any handle.
void global_init(const CurlApi& curl) {
  static std::once_flag once;
  std::call_once(once, [&curl] { curl.curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct SinkState {
  CURL* handle;
  const BodySink* sink;
  bool stopped = false;
};

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* state = static_cast<SinkState*>(user);
  long status = 0;
  loaded().curl_easy_getinfo(state->handle, CURLINFO_RESPONSE_CODE, &status);
  if (!(*state->sink)(status, std::string_view(data, size * count))) {
    state->stopped = true;
    return 0;  // makes libcurl abort with CURLE_WRITE_ERROR
  }
  return size * count;
}

struct SourceState {
  const BodySource* source = nullptr;
  std::uint64_t sent = 0;
  std::optional<Error> failure;  // the source's own error, reported instead of curl's
};

size_t on_read(char* into, size_t size, size_t count, void* user) {
  auto* state = static_cast<SourceState*>(user);
  const std::uint64_t left = state->source->size - state->sent;
  if (left == 0) return 0;
  const std::size_t room = static_cast<std::size_t>(std::min<std::uint64_t>(left, size * count));
  Result<std::size_t> got = state->source->read(into, room);
  if (!got || *got == 0 || *got > room) {
    state->failure = got ? Error{ErrorCode::internal, "docker: the request body ended " +
                                                          std::to_string(left) + " bytes early", 0}
                         : std::move(got).error();
    return CURL_READFUNC_ABORT;
  }
  state->sent += *got;
  return *got;
}

bool append(HeaderList& list, const std::string& line) {
  curl_slist* grown = loaded().curl_slist_append(list.get(), line.c_str());
  if (grown == nullptr) return false;
  static_cast<void>(list.release());
  list.reset(grown);
  return true;
}

}  // namespace

Result<HttpOutcome> unix_http(const std::string& socket_path, const HttpRequest& request,
                              const BodySink& sink) {
  IGNITE_TRY_ASSIGN(const CurlApi* curl, curl_api());
  global_init(*curl);
  Easy easy(curl->curl_easy_init());
  if (!easy) return fail(ErrorCode::internal, "docker: curl_easy_init failed");
  CURL* h = easy.get();
  SinkState state{h, &sink};
  char error_text[CURL_ERROR_SIZE] = {};
  // The host name is only the Host header; the socket decides where the request goes.
  const std::string url = "http://docker" + request.target;
  curl->curl_easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, socket_path.c_str());
  curl->curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl->curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);  // no SIGALRM from timeouts in a threaded process
  curl->curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error_text);
  curl->curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl->curl_easy_setopt(h, CURLOPT_WRITEDATA, &state);
  curl->curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  curl->curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  // Security: only http to the socket, never a redirect elsewhere.
  curl->curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl->curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http");
  // A body (even an empty one, for POST) goes as POSTFIELDS; CUSTOMREQUEST then names the
  // method (libcurl copies string options, so the temporaries may go).
  const std::string method(request.method);
  SourceState source;
  source.source = request.source;
  if (request.source != nullptr) {
    // Content-Length from the source's size; libcurl pulls the body through on_read.
    curl->curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl->curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
    curl->curl_easy_setopt(h, CURLOPT_READDATA, &source);
    curl->curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.source->size));
  } else if (method == "POST" || !request.body.empty()) {
    curl->curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.empty() ? "" : request.body.data());
    curl->curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }
  if (method != "GET") curl->curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
  HeaderList headers;
  // No "Expect: 100-continue" round trip for large build contexts.
  if (!append(headers, "Expect:")) return fail(ErrorCode::internal, "docker: out of memory");
  if (!request.content_type.empty() &&
      !append(headers, "Content-Type: " + std::string(request.content_type)))
    return fail(ErrorCode::internal, "docker: out of memory");
  curl->curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers.get());

  const CURLcode rc = curl->curl_easy_perform(h);
  HttpOutcome outcome;
  curl->curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &outcome.status);
  outcome.stopped = state.stopped;
  if (source.failure) return Unexpected{std::move(*source.failure)};
  if (rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && state.stopped)) return outcome;
  const std::string why = error_text[0] != '\0' ? error_text : curl->curl_easy_strerror(rc);
  const std::string peer(request.peer);
  if ((rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST) && peer == "docker")
    return fail(ErrorCode::unavailable,
                "docker daemon at " + socket_path + " does not answer (" + why +
                    "): is dockerd running? start it with `dockerd` or set DOCKER_HOST");
  if (rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST)
    return fail(ErrorCode::unavailable, peer + " does not answer on its socket (" + why + ")");
  if (rc == CURLE_OPERATION_TIMEDOUT)
    return fail(ErrorCode::unavailable, peer + " " + method + " " + request.target + ": timed out (" + why + ")");
  return fail(ErrorCode::unavailable, peer + " " + method + " " + request.target + ": " + why);
}

std::string url_escape(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if ((u >= 'A' && u <= 'Z') || (u >= 'a' && u <= 'z') || (u >= '0' && u <= '9') || u == '-' ||
        u == '_' || u == '.' || u == '~') {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

}  // namespace ignite::docker
