// NatsClient: a test-side NATS connection (cnats, Debian's libnats-dev) that owns its
// connection, options and JetStream context, for tests that publish jobs with a plain client,
// look at streams, or show that a server restart or a node's death loses nothing.
//
//   NatsClient nc(cluster.urls());
//   ASSERT_TRUE(nc.ok()) << nc.error();
//   ASSERT_TRUE(nc.add_stream("T", {"t"}, 3)) << nc.error();
//   ASSERT_TRUE(nc.js_publish("t", "hello")) << nc.error();
//
// Every call returns false (or nullopt) on failure and leaves the reason in error().
#pragma once
#include <nats/nats.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace ignite::testing {

class NatsClient {
 public:
  // `urls`: one URL or a comma-separated list (a cluster). Reconnects by itself for about a
  // minute (100 ms apart) when its server goes away, as a long-lived client would.
  explicit NatsClient(const std::string& urls) {
    std::vector<std::string> list;
    std::stringstream in(urls);
    for (std::string u; std::getline(in, u, ',');)
      if (!u.empty()) list.push_back(u);
    std::vector<const char*> servers;
    for (const auto& u : list) servers.push_back(u.c_str());
    natsOptions* raw_opts = nullptr;
    if (!check(natsOptions_Create(&raw_opts), "options")) return;
    opts_.reset(raw_opts);
    if (!check(natsOptions_SetServers(opts_.get(), servers.data(), static_cast<int>(servers.size())), "servers") ||
        !check(natsOptions_SetMaxReconnect(opts_.get(), 600), "max reconnect") ||
        !check(natsOptions_SetReconnectWait(opts_.get(), 100), "reconnect wait") ||
        !check(natsOptions_SetTimeout(opts_.get(), 2000), "timeout"))
      return;
    natsConnection* raw_nc = nullptr;
    if (!check(natsConnection_Connect(&raw_nc, opts_.get()), "connect to " + urls)) return;
    nc_.reset(raw_nc);
    jsCtx* raw_js = nullptr;
    if (!check(natsConnection_JetStream(&raw_js, nc_.get(), nullptr), "JetStream context")) return;
    js_.reset(raw_js);
  }

  bool ok() const { return nc_ && js_ && error_.empty(); }
  const std::string& error() const { return error_; }
  natsConnection* connection() const { return nc_.get(); }
  jsCtx* jetstream() const { return js_.get(); }

  // Core NATS publish (what an Ignis client does), flushed so the server has it on return.
  bool publish(const std::string& subject, const std::string& data) {
    return check(natsConnection_Publish(nc_.get(), subject.c_str(), data.data(), static_cast<int>(data.size())),
                 "publish " + subject) &&
           check(natsConnection_Flush(nc_.get()), "flush");
  }

  // JetStream publish: true once the stream has acknowledged (stored) the message. Retries for
  // up to `patience` while there is no stream leader (election after a node's death).
  bool js_publish(const std::string& subject, const std::string& data,
                  std::chrono::milliseconds patience = std::chrono::seconds(10)) {
    const auto deadline = std::chrono::steady_clock::now() + patience;
    for (;;) {
      jsPubAck* ack = nullptr;
      jsErrCode jerr{};
      const natsStatus s = js_Publish(&ack, js_.get(), subject.c_str(), data.data(),
                                      static_cast<int>(data.size()), nullptr, &jerr);
      jsPubAck_Destroy(ack);
      if (s == NATS_OK) return true;
      if (std::chrono::steady_clock::now() > deadline)
        return check(s, "JetStream publish " + subject + " (jerr " + std::to_string(static_cast<int>(jerr)) + ")");
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  // A stream on `subjects` (file storage, limits retention) with `replicas` copies.
  bool add_stream(const std::string& name, const std::vector<std::string>& subjects, int replicas = 1) {
    std::vector<const char*> subj;
    for (const auto& s : subjects) subj.push_back(s.c_str());
    jsStreamConfig cfg;
    jsStreamConfig_Init(&cfg);
    cfg.Name = name.c_str();
    cfg.Subjects = subj.data();
    cfg.SubjectsLen = static_cast<int>(subj.size());
    cfg.Storage = js_FileStorage;
    cfg.Replicas = replicas;
    jsStreamInfo* si = nullptr;
    jsErrCode jerr{};
    const natsStatus s = js_AddStream(&si, js_.get(), &cfg, nullptr, &jerr);
    jsStreamInfo_Destroy(si);
    return check(s, "add stream " + name + " (jerr " + std::to_string(static_cast<int>(jerr)) + ")");
  }

  // How many messages the stream holds; nullopt (with error()) when it cannot be asked.
  std::optional<uint64_t> stream_messages(const std::string& name) {
    auto info = stream_info(name);
    if (!info) return std::nullopt;
    return info->State.Msgs;
  }

  // The stream's configured size bound in bytes (-1: none); nullopt when it cannot be asked.
  std::optional<int64_t> stream_max_bytes(const std::string& name) {
    auto info = stream_info(name);
    if (!info || info->Config == nullptr) return std::nullopt;
    return info->Config->MaxBytes;
  }

  // The server name of the stream's leader ("" for a single server or when unknown).
  std::string stream_leader(const std::string& name) {
    auto info = stream_info(name);
    return info && info->Cluster != nullptr && info->Cluster->Leader != nullptr ? info->Cluster->Leader : "";
  }

 private:
  struct Destroy {
    void operator()(natsOptions* p) const { natsOptions_Destroy(p); }
    void operator()(natsConnection* p) const { natsConnection_Destroy(p); }
    void operator()(jsCtx* p) const { jsCtx_Destroy(p); }
    void operator()(jsStreamInfo* p) const { jsStreamInfo_Destroy(p); }
  };

  std::unique_ptr<jsStreamInfo, Destroy> stream_info(const std::string& name) {
    jsStreamInfo* si = nullptr;
    jsErrCode jerr{};
    const natsStatus s = js_GetStreamInfo(&si, js_.get(), name.c_str(), nullptr, &jerr);
    std::unique_ptr<jsStreamInfo, Destroy> owned(si);
    if (!check(s, "stream info " + name)) return nullptr;
    return owned;
  }

  bool check(natsStatus s, const std::string& what) {
    if (s == NATS_OK) {
      error_.clear();
      return true;
    }
    error_ = what + ": " + natsStatus_GetText(s);
    if (const char* last = nats_GetLastError(nullptr); last != nullptr && *last != '\0') error_ += std::string(" (") + last + ")";
    return false;
  }

  std::string error_;
  // Declared in the order they are built, so they are destroyed in reverse: js, connection, options.
  std::unique_ptr<natsOptions, Destroy> opts_;
  std::unique_ptr<natsConnection, Destroy> nc_;
  std::unique_ptr<jsCtx, Destroy> js_;
};

}  // namespace ignite::testing
