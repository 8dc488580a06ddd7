// RAII for cnats objects (every one has its own destroy function) and natsStatus as Result.
#pragma once
#include <memory>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "queue/nats_api.hpp"

namespace ignite::queue {

// Destroy names the table's member: an object exists only after cnats was loaded.
template <class T, auto Destroy>
struct NatsDeleter {
  void operator()(T* p) const noexcept {
    if (p) (nats().*Destroy)(p);
  }
};
template <class T, auto Destroy>
using NatsPtr = std::unique_ptr<T, NatsDeleter<T, Destroy>>;

using Connection = NatsPtr<natsConnection, &NatsApi::natsConnection_Destroy>;
using Options = NatsPtr<natsOptions, &NatsApi::natsOptions_Destroy>;
using JetStream = NatsPtr<jsCtx, &NatsApi::jsCtx_Destroy>;
using Subscription = NatsPtr<natsSubscription, &NatsApi::natsSubscription_Destroy>;
using Message = NatsPtr<natsMsg, &NatsApi::natsMsg_Destroy>;
using KeyValue = NatsPtr<kvStore, &NatsApi::kvStore_Destroy>;
using KvEntry = NatsPtr<kvEntry, &NatsApi::kvEntry_Destroy>;
using StreamInfo = NatsPtr<jsStreamInfo, &NatsApi::jsStreamInfo_Destroy>;
using ConsumerInfo = NatsPtr<jsConsumerInfo, &NatsApi::jsConsumerInfo_Destroy>;
using MetaData = NatsPtr<jsMsgMetaData, &NatsApi::jsMsgMetaData_Destroy>;
using PubAck = NatsPtr<jsPubAck, &NatsApi::jsPubAck_Destroy>;

// "what: status text (last error)", as an Error of the right kind: a connection problem is
// `unavailable` (retrying may help), anything else `internal`.
Error nats_error(std::string_view what, natsStatus s, jsErrCode js_code = static_cast<jsErrCode>(0));

inline Result<void> check(natsStatus s, std::string_view what, jsErrCode js_code = static_cast<jsErrCode>(0)) {
  if (s == NATS_OK) return {};
  return fail(nats_error(what, s, js_code));
}

}  // namespace ignite::queue
