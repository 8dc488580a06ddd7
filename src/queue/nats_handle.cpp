#include "queue/nats_handle.hpp"

namespace ignite::queue {

Error nats_error(std::string_view what, natsStatus s, jsErrCode js_code) {
  std::string message = std::string(what) + ": " + nats().natsStatus_GetText(s);
  if (const char* last = nats().nats_GetLastError(nullptr); last && *last && message.find(last) == std::string::npos)
    message += std::string(" (") + last + ")";
  if (js_code != 0) message += " [jetstream error " + std::to_string(static_cast<int>(js_code)) + "]";
  // cnats reports a server without JetStream as "no responders" too; that one does not pass.
  const bool no_jetstream = js_code == JSNotEnabledErr || js_code == JSNotEnabledForAccountErr;
  if (no_jetstream) message += ": JetStream is not enabled on the server (nats-server -js)";
  const bool transient = !no_jetstream && (s == NATS_NO_SERVER || s == NATS_CONNECTION_CLOSED || s == NATS_TIMEOUT ||
                                           s == NATS_CONNECTION_DISCONNECTED || s == NATS_STALE_CONNECTION ||
                                           s == NATS_NO_RESPONDERS || s == NATS_IO_ERROR ||
                                           js_code == JSClusterNotAvailErr);
  return {transient ? ErrorCode::unavailable : ErrorCode::internal, std::move(message), 0};
}

}  // namespace ignite::queue
