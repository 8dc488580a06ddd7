// RAII for cnats objects (every one has its own destroy function) and natsStatus as Result.
#pragma once
#include <memory>
#include <string>
#include <string_view>

#include <nats/nats.h>

#include "core/result.hpp"

namespace ignite::queue {

template <class T, void (*Destroy)(T*)>
struct NatsDeleter {
  void operator()(T* p) const noexcept {
    if (p) Destroy(p);
  }
};
template <class T, void (*Destroy)(T*)>
using NatsPtr = std::unique_ptr<T, NatsDeleter<T, Destroy>>;

using Connection = NatsPtr<natsConnection, natsConnection_Destroy>;
using Options = NatsPtr<natsOptions, natsOptions_Destroy>;
using JetStream = NatsPtr<jsCtx, jsCtx_Destroy>;
using Subscription = NatsPtr<natsSubscription, natsSubscription_Destroy>;
using Message = NatsPtr<natsMsg, natsMsg_Destroy>;
using KeyValue = NatsPtr<kvStore, kvStore_Destroy>;
using KvEntry = NatsPtr<kvEntry, kvEntry_Destroy>;
using StreamInfo = NatsPtr<jsStreamInfo, jsStreamInfo_Destroy>;
using ConsumerInfo = NatsPtr<jsConsumerInfo, jsConsumerInfo_Destroy>;
using MetaData = NatsPtr<jsMsgMetaData, jsMsgMetaData_Destroy>;
using PubAck = NatsPtr<jsPubAck, jsPubAck_Destroy>;

// "what: status text (last error)", as an Error of the right kind: a connection problem is
// `unavailable` (retrying may help), anything else `internal`.
Error nats_error(std::string_view what, natsStatus s, jsErrCode js_code = static_cast<jsErrCode>(0));

inline Result<void> check(natsStatus s, std::string_view what, jsErrCode js_code = static_cast<jsErrCode>(0)) {
  if (s == NATS_OK) return {};
  return fail(nats_error(what, s, js_code));
}

}  // namespace ignite::queue
