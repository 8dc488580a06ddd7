// `ignite worker` as a child process, and a NATS client that collects job status updates, for
// the NATS end-to-end tests (real nats-server processes: tests/common/nats_servers.hpp).
#pragma once
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nats/nats.h>
#include <nlohmann/json.hpp>

#include "../common/temp_tree.hpp"
#include "cli_helpers.hpp"

extern char** environ;

namespace ignite::testing {

inline std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// `ignite worker --nats URLS ARGS…`, stdout and stderr to files in a temp dir. ready() once it
// printed "worker ready" (connected, stream and consumer in place, fetching).
class WorkerProcess {
 public:
  WorkerProcess(const std::string& urls, std::vector<std::string> args,
                std::chrono::seconds ready_timeout = std::chrono::seconds(60))
      : dir_("ignite-worker-") {
    args.insert(args.begin(), {"worker", "--nats", urls});
    std::vector<std::string> argv_s{IGNITE_BIN};
    for (auto& a : with_suite_isolation(std::move(args))) argv_s.push_back(std::move(a));
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, out().c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, err().c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (::posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
    wait_ready(ready_timeout);
  }
  ~WorkerProcess() {
    if (pid_ > 0 && !exit_code_) {
      ::kill(pid_, SIGKILL);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
  }
  WorkerProcess(const WorkerProcess&) = delete;
  WorkerProcess& operator=(const WorkerProcess&) = delete;

  bool ready() const { return ready_; }
  // Waits (again) for "worker ready"; false at the timeout or when the worker exited.
  bool wait_ready(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!ready_ && pid_ > 0 && std::chrono::steady_clock::now() < deadline) {
      const std::string text = read_text(out());
      if (text.find("worker ready") != std::string::npos) {
        ready_ = true;
        if (auto at = text.find("metrics on http://127.0.0.1:"); at != std::string::npos)
          metrics_port_ = std::atoi(text.c_str() + at + 28);
        break;
      }
      if (wait_exit(std::chrono::milliseconds(50))) break;
    }
    return ready_;
  }
  pid_t pid() const { return pid_; }
  int metrics_port() const { return metrics_port_; }
  std::string log() const { return read_text(err()); }
  void signal(int sig) const {
    if (pid_ > 0) ::kill(pid_, sig);
  }
  std::optional<int> wait_exit(std::chrono::milliseconds timeout) {
    if (exit_code_) return exit_code_;
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return exit_code_;
      }
      if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

 private:
  std::filesystem::path out() const { return dir_.path() / "stdout"; }
  std::filesystem::path err() const { return dir_.path() / "stderr"; }

  TempTree dir_;
  pid_t pid_ = -1;
  bool ready_ = false;
  int metrics_port_ = 0;
  std::optional<int> exit_code_;
};

// Subscribes to job_status.> and keeps every update per id, in arrival order.
class StatusCollector {
 public:
  explicit StatusCollector(natsConnection* nc) {
    natsConnection_Subscribe(&sub_, nc, "job_status.>", &StatusCollector::on_msg, this);
    if (sub_ && natsSubscription_SetOnCompleteCB(sub_, &StatusCollector::on_closed, this) == NATS_OK)
      done_ = closed_.get_future();
    natsConnection_Flush(nc);
  }
  // Unsubscribing does not wait for a callback already running on cnats' delivery thread: the
  // collector lives until cnats says its last callback has returned (updates still arrive
  // when a test leaves its scope with jobs running).
  ~StatusCollector() {
    if (!sub_) return;
    natsSubscription_Unsubscribe(sub_);
    if (done_.valid()) done_.wait_for(std::chrono::seconds(10));
    natsSubscription_Destroy(sub_);
  }
  StatusCollector(const StatusCollector&) = delete;
  StatusCollector& operator=(const StatusCollector&) = delete;

  // Waits until every id in `ids` has a final update (done/failed); true if so in time.
  bool wait_final(const std::vector<std::string>& ids, std::chrono::milliseconds timeout) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, timeout, [&] {
      for (const auto& id : ids)
        if (finals_locked(id).empty()) return false;
      return true;
    });
  }
  std::vector<nlohmann::json> updates(const std::string& id) {
    std::lock_guard lock(mu_);
    return by_id_[id];
  }
  std::vector<nlohmann::json> finals(const std::string& id) {
    std::lock_guard lock(mu_);
    return finals_locked(id);
  }

 private:
  std::vector<nlohmann::json> finals_locked(const std::string& id) {
    std::vector<nlohmann::json> out;
    for (const auto& u : by_id_[id]) {
      const auto s = u.value("status", "");
      if (s == "done" || s == "failed") out.push_back(u);
    }
    return out;
  }
  static void on_msg(natsConnection*, natsSubscription*, natsMsg* msg, void* self) {
    auto* c = static_cast<StatusCollector*>(self);
    const std::string subject = natsMsg_GetSubject(msg);
    auto doc = nlohmann::json::parse(std::string(natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg))),
                                     nullptr, false);
    natsMsg_Destroy(msg);
    {
      std::lock_guard lock(c->mu_);
      c->by_id_[subject.substr(std::string("job_status.").size())].push_back(std::move(doc));
    }
    c->cv_.notify_all();
  }

  static void on_closed(void* self) { static_cast<StatusCollector*>(self)->closed_.set_value(); }

  natsSubscription* sub_ = nullptr;
  std::promise<void> closed_;
  std::future<void> done_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, std::vector<nlohmann::json>> by_id_;
};

// The stored status of `id` in the results bucket (null when there is none).
inline nlohmann::json stored_status(jsCtx* js, const std::string& id, const std::string& bucket = "ignite_results") {
  kvStore* kv = nullptr;
  if (js_KeyValue(&kv, js, bucket.c_str()) != NATS_OK) return nullptr;
  kvEntry* e = nullptr;
  nlohmann::json out = nullptr;
  if (kvStore_Get(&e, kv, id.c_str()) == NATS_OK) {
    out = nlohmann::json::parse(std::string(static_cast<const char*>(kvEntry_Value(e)),
                                            static_cast<std::size_t>(kvEntry_ValueLen(e))),
                                nullptr, false);
    kvEntry_Destroy(e);
  }
  kvStore_Destroy(kv);
  return out;
}

// A Prometheus counter's value from a worker's /metrics text (-1 when absent).
inline long metric(const std::string& text, const std::string& series) {
  const auto at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::atol(text.c_str() + at + series.size() + 2);
}

inline std::string job(const std::string& id, const std::string& code, const std::string& language = "python") {
  return nlohmann::json{{"id", id}, {"language", language}, {"code", code}, {"variant", "standard"}}.dump();
}

}  // namespace ignite::testing
