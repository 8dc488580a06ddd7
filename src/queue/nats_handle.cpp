#include "queue/nats_handle.hpp"

namespace ignite::queue {

Error nats_error(std::string_view what, natsStatus s, jsErrCode js_code) {
  std::string message = std::string(what) + ": " + nats().natsStatus_GetText(s);
  if (const char* last = nats().nats_GetLastError(nullptr); last && *last && message.find(last) == std::string::npos)
    message += std::string(" (") + last + ")";
  if (js_code != 0) message += " [jetstream error " + std::to_string(static_cast<int>(js_code)) + "]";
  const bool transient = s == NATS_NO_SERVER || s == NATS_CONNECTION_CLOSED || s == NATS_TIMEOUT ||
                         s == NATS_CONNECTION_DISCONNECTED || s == NATS_STALE_CONNECTION ||
                         s == NATS_NO_RESPONDERS || s == NATS_IO_ERROR;
  return {transient ? ErrorCode::unavailable : ErrorCode::internal, std::move(message), 0};
}

}  // namespace ignite::queue
