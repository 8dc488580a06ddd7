// The cnats functions the NATS transport calls, loaded on first use (sys/shared_library: a CLI
// run that never talks to NATS does not pay for cnats and its TLS libraries). Code in src/queue
// calls them as nats().natsConnection_Connect(…); the linker does not see libnats at all.
#pragma once
#include <nats/nats.h>

#include <chrono>

#include "core/result.hpp"

#define IGNITE_NATS_FUNCTIONS(X) \
  X(jsConsumerConfig_Init) X(jsConsumerInfo_Destroy) X(jsCtx_Destroy) X(jsMsgMetaData_Destroy) \
  X(jsOptions_Init) X(jsPubAck_Destroy) X(jsStreamConfig_Init) X(jsStreamInfo_Destroy) \
  X(jsSubOptions_Init) X(js_AddConsumer) X(js_AddStream) X(js_CreateKeyValue) X(js_KeyValue) \
  X(js_PublishMsg) X(js_PullSubscribe) X(js_UpdateConsumer) X(js_UpdateStream) X(kvConfig_Init) \
  X(kvEntry_Destroy) X(kvEntry_Revision) X(kvEntry_Value) X(kvEntry_ValueLen) \
  X(kvEntry_ValueString) X(kvStore_Create) X(kvStore_Destroy) X(kvStore_Get) X(kvStore_Put) \
  X(kvStore_Update) X(natsConnection_Connect) X(natsConnection_Destroy) \
  X(natsConnection_FlushTimeout) X(natsConnection_GetConnectedUrl) \
  X(natsConnection_GetMaxPayload) X(natsConnection_JetStream) X(natsConnection_Publish) \
  X(natsConnection_PublishMsg) X(natsConnection_QueueSubscribe) X(natsMsgHeader_Set) \
  X(natsMsgList_Destroy) X(natsMsg_Ack) X(natsMsg_Create) X(natsMsg_Destroy) X(natsMsg_GetData) \
  X(natsMsg_GetDataLength) X(natsMsg_GetMetaData) X(natsMsg_GetReply) X(natsMsg_GetSubject) \
  X(natsMsg_InProgress) X(natsMsg_NakWithDelay) X(natsOptions_Create) X(natsOptions_Destroy) \
  X(natsOptions_LoadCATrustedCertificates) X(natsOptions_LoadCertificatesChain) \
  X(natsOptions_SetDisconnectedCB) X(natsOptions_SetMaxReconnect) X(natsOptions_SetName) \
  X(natsOptions_SetReconnectBufSize) X(natsOptions_SetReconnectWait) \
  X(natsOptions_SetReconnectedCB) X(natsOptions_SetSecure) X(natsOptions_SetServers) \
  X(natsOptions_SetTimeout) X(natsOptions_SetUserCredentialsFromFiles) X(natsStatus_GetText) \
  X(natsSubscription_Destroy) X(natsSubscription_Drain) X(natsSubscription_Fetch) \
  X(natsSubscription_SetOnCompleteCB) X(natsSubscription_Unsubscribe) \
  X(natsSubscription_WaitForDrainCompletion) X(nats_CloseAndWait) X(nats_GetLastError)

namespace ignite::queue {

struct NatsApi {
#define IGNITE_NATS_MEMBER(f) decltype(&::f) f = nullptr;
  IGNITE_NATS_FUNCTIONS(IGNITE_NATS_MEMBER)
#undef IGNITE_NATS_MEMBER
};

// cnats, loaded once per process (thread-safe); the error says which package to install.
// Every way into the transport (connect, the publisher) calls it first and reports its error.
Result<const NatsApi*> load_nats();

// The loaded table, for code that runs only after load_nats() succeeded (it has a connection,
// options or a status from cnats). Aborts with the reason if cnats cannot be loaded.
const NatsApi& nats();

// Waits (up to `timeout`) for cnats' own threads to end, where cnats was loaded; call it after
// the last connection is destroyed. cnats keeps threads running after natsConnection_Destroy,
// and a process that exits with them alive lets OpenSSL's exit-time cleanup race them (a rare
// SIGSEGV at the exit of a TLS worker). main() calls it through NatsShutdown.
void close_nats(std::chrono::milliseconds timeout);

struct NatsShutdown {
  NatsShutdown() = default;
  NatsShutdown(const NatsShutdown&) = delete;
  NatsShutdown& operator=(const NatsShutdown&) = delete;
  ~NatsShutdown() { close_nats(std::chrono::seconds(2)); }
};

}  // namespace ignite::queue
