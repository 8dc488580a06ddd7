// Real `nats-server` processes with JetStream for tests: NatsServer (one node) and NatsCluster
// (a JetStream cluster of three, all on 127.0.0.1). Each node gets random free ports (client,
// monitoring, route) that stay the same across restart(), and a store dir in a temp tree that
// goes away with the object, so a test can kill a node and bring it back on the same port with
// the same data ("a server restart loses no job").
//
//   if (auto why = nats_server_unavailable(); !why.empty()) GTEST_SKIP() << why;
//   NatsServer nats;
//   ASSERT_TRUE(nats.ok()) << nats.error();
//   ... nats.url() ...; nats.kill(); ASSERT_TRUE(nats.restart()) << nats.error();
//
// Readiness is the server's own word: the monitoring endpoint's /healthz (JetStream enabled and,
// in a cluster, a meta leader known and every stream/consumer replica on the node current) and,
// for a cluster, a meta leader in /jsz on every running node.
//
// Nodes are started with PR_SET_PDEATHSIG, so a test binary that crashes does not leave servers
// behind. That signal follows the *thread* that forked: start and restart nodes from the test's
// own thread (or one that lives as long as the servers), not from a short-lived helper thread.
#pragma once
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "sys/child_process.hpp"
#include "sys/fd.hpp"
#include "temp_tree.hpp"

extern char** environ;

namespace ignite::testing {

namespace nats_detail {

// Debian installs nats-server in /usr/sbin, which an ordinary user's PATH lacks: look there too.
// IGNITE_NATS_SERVER names a binary explicitly.
inline std::string find_binary() {
  if (const char* env = std::getenv("IGNITE_NATS_SERVER"); env != nullptr && *env != '\0')
    return ::access(env, X_OK) == 0 ? std::string(env) : std::string();
  std::string dirs = std::getenv("PATH") != nullptr ? std::getenv("PATH") : "";
  dirs += ":/usr/sbin:/usr/local/sbin:/usr/bin:/usr/local/bin";
  std::stringstream in(dirs);
  for (std::string dir; std::getline(in, dir, ':');) {
    if (dir.empty()) continue;
    const std::string candidate = dir + "/nats-server";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return {};
}

// n distinct free TCP ports on 127.0.0.1: every socket stays bound until all are chosen, so the
// kernel cannot hand out the same port twice. (Another process could take one before the
// server binds it; with ephemeral ports that is rare enough for tests.)
inline std::vector<int> free_ports(std::size_t n) {
  std::vector<sys::Fd> held;
  std::vector<int> ports;
  for (std::size_t i = 0; i < n; ++i) {
    sys::Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (!fd || ::bind(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&a), &len) != 0)
      return {};
    ports.push_back(ntohs(a.sin_port));
    held.push_back(std::move(fd));
  }
  return ports;
}

struct HttpReply {
  int status = 0;  // 0: no complete reply
  std::string body;
};

// GET http://127.0.0.1:port/target as HTTP/1.0 (the server closes after replying).
inline HttpReply http_get(int port, const std::string& target,
                          std::chrono::milliseconds timeout = std::chrono::seconds(2)) {
  HttpReply reply;
  sys::Fd fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd) return reply;
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(timeout.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((timeout.count() % 1000) * 1000);
  ::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  if (::connect(fd.get(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return reply;
  const std::string request = "GET " + target + " HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
  if (::send(fd.get(), request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size()))
    return reply;
  std::string raw;
  char buf[8192];
  for (;;) {
    const ssize_t n = ::recv(fd.get(), buf, sizeof buf, 0);
    if (n < 0) return reply;  // timeout or reset: incomplete
    if (n == 0) break;
    raw.append(buf, static_cast<std::size_t>(n));
  }
  const auto head_end = raw.find("\r\n\r\n");
  const auto space = raw.find(' ');
  if (head_end == std::string::npos || space == std::string::npos || space > head_end) return reply;
  reply.status = std::atoi(raw.c_str() + space + 1);
  reply.body = raw.substr(head_end + 4);
  return reply;
}

inline std::string tail(const std::filesystem::path& file, std::size_t max = 2000) {
  std::ifstream in(file, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return text.size() > max ? "…" + text.substr(text.size() - max) : text;
}

// One nats-server process and what it needs to come back the same: its config file, ports and
// log. The process is a sys::ChildProcess, so it is killed and reaped on every path.
class Node {
 public:
  Node(std::string binary, std::filesystem::path config, std::filesystem::path log, int client_port,
       int monitor_port)
      : binary_(std::move(binary)), config_(std::move(config)), log_(std::move(log)),
        client_port_(client_port), monitor_port_(monitor_port) {}

  int client_port() const { return client_port_; }
  int monitor_port() const { return monitor_port_; }
  std::string url() const { return "nats://127.0.0.1:" + std::to_string(client_port_); }
  const std::filesystem::path& log_path() const { return log_; }

  // fork + exec `nats-server -c CONFIG`, stdout/stderr appended to the log. Returns "" or why not.
  std::string spawn() {
    if (running()) return "nats-server is already running on port " + std::to_string(client_port_);
    process_.reset();
    // Everything the child touches is prepared here: after fork only async-signal-safe calls.
    std::vector<std::string> args{binary_, "-c", config_.string()};
    std::vector<char*> argv;
    for (auto& s : args) argv.push_back(s.data());
    argv.push_back(nullptr);
    const std::string log = log_.string();
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) return std::string("fork: ") + std::strerror(errno);
    if (pid == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      sigset_t none;
      ::sigemptyset(&none);
      ::sigprocmask(SIG_SETMASK, &none, nullptr);
      const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
      const int in = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (out < 0 || in < 0 || ::dup2(in, 0) < 0 || ::dup2(out, 1) < 0 || ::dup2(out, 2) < 0) ::_exit(127);
      ::execve(argv[0], argv.data(), environ);
      ::_exit(127);
    }
    sys::Fd pidfd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0)));
    if (!pidfd) {
      // Cannot own it through a pidfd (kernel < 5.3): do not leave it running.
      ::kill(pid, SIGKILL);
      int status = 0;
      ::waitpid(pid, &status, 0);
      return std::string("pidfd_open: ") + std::strerror(errno);
    }
    process_.emplace(pid, std::move(pidfd));
    return {};
  }

  // True while the process runs; reaps it when it has exited on its own.
  bool running() {
    if (!process_ || !*process_) return false;
    pollfd p{process_->pidfd(), POLLIN, 0};
    if (::poll(&p, 1, 0) == 0) return true;
    (void)process_->wait();
    process_.reset();
    return false;
  }

  // Sends `sig`. For SIGKILL, SIGTERM, SIGINT and SIGQUIT it also waits until the process is
  // gone (SIGKILL after 10 s) and reaps it, so its ports are free when this returns; other
  // signals (SIGSTOP, SIGCONT, SIGHUP, …) are only sent.
  bool kill(int sig) {
    if (!running()) return false;
    if (!process_->send_signal(sig)) return false;
    if (sig != SIGKILL && sig != SIGTERM && sig != SIGINT && sig != SIGQUIT) return true;
    pollfd p{process_->pidfd(), POLLIN, 0};
    if (::poll(&p, 1, 10'000) == 0) (void)process_->send_signal(SIGKILL);
    (void)process_->wait();
    process_.reset();
    return true;
  }

  // Polls /healthz on the monitoring port until it answers ok. Returns "" or why not.
  std::string wait_healthy(std::chrono::steady_clock::time_point deadline) {
    std::string last = "no answer on the monitoring port";
    for (;;) {
      if (!running()) return "nats-server exited; its log:\n" + tail(log_);
      const HttpReply r = http_get(monitor_port_, "/healthz");
      if (r.status == 200) return {};
      if (r.status != 0) last = "/healthz " + std::to_string(r.status) + ": " + r.body;
      if (std::chrono::steady_clock::now() > deadline) return "not healthy in time (" + last + "); its log:\n" + tail(log_);
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  }

  // GET on the monitoring port, parsed; null when there is no (JSON) answer.
  nlohmann::json monitor(const std::string& target) const {
    const HttpReply r = http_get(monitor_port_, target);
    if (r.status == 0) return nullptr;
    return nlohmann::json::parse(r.body, nullptr, false);
  }

 private:
  std::string binary_;
  std::filesystem::path config_;
  std::filesystem::path log_;
  int client_port_;
  int monitor_port_;
  std::optional<sys::ChildProcess> process_;
};

// JetStream limits small enough that several servers fit on a test machine.
inline std::string jetstream_block(const std::filesystem::path& store) {
  return "jetstream {\n  store_dir: \"" + store.string() +
         "\"\n  max_memory_store: 256MB\n  max_file_store: 2GB\n}\n";
}

}  // namespace nats_detail

// "" when nats-server can be started here, else why not (for GTEST_SKIP() << …).
inline std::string nats_server_unavailable() {
  if (!nats_detail::find_binary().empty()) return {};
  if (const char* env = std::getenv("IGNITE_NATS_SERVER"); env != nullptr && *env != '\0')
    return std::string("IGNITE_NATS_SERVER=") + env + " is not an executable";
  return "nats-server is not installed (not on PATH nor in /usr/sbin; scripts/install-deps installs it)";
}

// One JetStream server on 127.0.0.1: random client and monitoring ports, a temp store dir.
// The constructor starts it and waits until /healthz says JetStream is ready.
class NatsServer {
 public:
  // `extra_config` is appended to the config file (e.g. a `tls {…}` block).
  explicit NatsServer(std::chrono::milliseconds ready_timeout = std::chrono::seconds(15),
                      const std::string& extra_config = "")
      : dir_("ignite-nats-") {
    const std::string binary = nats_detail::find_binary();
    if (binary.empty()) {
      error_ = nats_server_unavailable();
      return;
    }
    const auto ports = nats_detail::free_ports(2);
    if (ports.size() != 2) {
      error_ = "no free ports on 127.0.0.1";
      return;
    }
    const auto config = dir_.write("nats.conf", "server_name: ignite-test\nlisten: 127.0.0.1:" +
                                                    std::to_string(ports[0]) + "\nhttp: 127.0.0.1:" +
                                                    std::to_string(ports[1]) + "\n" +
                                                    nats_detail::jetstream_block(store_dir()) + extra_config);
    node_ = std::make_unique<nats_detail::Node>(binary, config, dir_.path() / "nats.log", ports[0], ports[1]);
    restart(ready_timeout);
  }

  bool ok() const { return error_.empty(); }
  // Why the last start, restart or wait failed ("" after a success), with the server's log tail.
  const std::string& error() const { return error_; }

  std::string url() const { return node_ ? node_->url() : std::string(); }  // nats://127.0.0.1:PORT
  int port() const { return node_ ? node_->client_port() : 0; }
  int monitor_port() const { return node_ ? node_->monitor_port() : 0; }
  std::filesystem::path store_dir() const { return dir_.path() / "store"; }
  std::filesystem::path log_path() const { return dir_.path() / "nats.log"; }
  std::string log() const { return nats_detail::tail(log_path(), 1 << 20); }

  bool running() { return node_ && node_->running(); }

  // Sends `sig` (default SIGKILL: a crash). For SIGKILL/SIGTERM/SIGINT/SIGQUIT it returns
  // once the process is gone and reaped. False when it was not running.
  bool kill(int sig = SIGKILL) { return node_ && node_->kill(sig); }

  // Starts the server again on the same ports with the same store dir (SIGKILL first if it still
  // runs) and waits until it is ready. False, with error(), when it does not come up.
  bool restart(std::chrono::milliseconds ready_timeout = std::chrono::seconds(15)) {
    if (!node_) return false;
    const auto deadline = std::chrono::steady_clock::now() + ready_timeout;
    (void)node_->kill(SIGKILL);
    error_ = node_->spawn();
    if (error_.empty()) error_ = node_->wait_healthy(deadline);
    return error_.empty();
  }

  // GET on the monitoring port, e.g. monitor("/jsz?streams=true"); null without an answer.
  nlohmann::json monitor(const std::string& target) const {
    return node_ ? node_->monitor(target) : nlohmann::json(nullptr);
  }

 private:
  TempTree dir_;
  std::unique_ptr<nats_detail::Node> node_;
  std::string error_;
};

// A JetStream cluster of `nodes` (3 by default) servers on 127.0.0.1, named n1, n2, n3, each
// with its own config file (routes to all the others), store dir and log in one temp tree.
// Ports are random, chosen once, and kept across restart(i). The constructor starts every node
// and waits until wait_ready() holds.
class NatsCluster {
 public:
  explicit NatsCluster(std::size_t nodes = 3,
                       std::chrono::milliseconds ready_timeout = std::chrono::seconds(30))
      : dir_("ignite-nats-cluster-") {
    const std::string binary = nats_detail::find_binary();
    if (binary.empty()) {
      error_ = nats_server_unavailable();
      return;
    }
    const auto ports = nats_detail::free_ports(3 * nodes);  // client, monitoring, route per node
    if (ports.size() != 3 * nodes) {
      error_ = "no free ports on 127.0.0.1";
      return;
    }
    for (std::size_t i = 0; i < nodes; ++i) {
      const std::string name = server_name(i);
      std::string routes;
      for (std::size_t j = 0; j < nodes; ++j)
        if (j != i) routes += "    nats-route://127.0.0.1:" + std::to_string(ports[3 * j + 2]) + "\n";
      const auto config = dir_.write(
          name + ".conf", "server_name: " + name + "\nlisten: 127.0.0.1:" + std::to_string(ports[3 * i]) +
                              "\nhttp: 127.0.0.1:" + std::to_string(ports[3 * i + 1]) + "\n" +
                              nats_detail::jetstream_block(store_dir(i)) +
                              "cluster {\n  name: ignite-test\n  listen: 127.0.0.1:" +
                              std::to_string(ports[3 * i + 2]) + "\n  routes: [\n" + routes + "  ]\n}\n");
      nodes_.push_back(std::make_unique<nats_detail::Node>(binary, config, dir_.path() / (name + ".log"),
                                                           ports[3 * i], ports[3 * i + 1]));
    }
    for (auto& node : nodes_) {
      error_ = node->spawn();
      if (!error_.empty()) return;
    }
    wait_whole(ready_timeout);
  }

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  std::size_t size() const { return nodes_.size(); }
  // "nats://127.0.0.1:A,nats://127.0.0.1:B,nats://127.0.0.1:C" (every node, running or not).
  std::string urls() const {
    std::string out;
    for (const auto& node : nodes_) out += (out.empty() ? "" : ",") + node->url();
    return out;
  }
  std::string url(std::size_t i) const { return nodes_.at(i)->url(); }
  int port(std::size_t i) const { return nodes_.at(i)->client_port(); }
  int monitor_port(std::size_t i) const { return nodes_.at(i)->monitor_port(); }
  static std::string server_name(std::size_t i) { return "n" + std::to_string(i + 1); }
  std::filesystem::path store_dir(std::size_t i) const { return dir_.path() / server_name(i); }
  std::string log(std::size_t i) const { return nats_detail::tail(nodes_.at(i)->log_path(), 1 << 20); }

  bool running(std::size_t i) { return nodes_.at(i)->running(); }
  // As NatsServer::kill, for node i. Does not wait for a new meta leader: call wait_ready().
  bool kill(std::size_t i, int sig = SIGKILL) { return nodes_.at(i)->kill(sig); }

  // Starts node i again (same ports, same store dir; SIGKILL first if it still runs) and waits
  // until wait_ready() holds, so the node has caught up with its stream replicas, and until
  // every node counts the whole meta group again: a restarted node answers /healthz and names
  // the leader before it has relearnt all its peers (its /jsz said cluster_size 2 of 3).
  bool restart(std::size_t i, std::chrono::milliseconds ready_timeout = std::chrono::seconds(30)) {
    return start_again(i) && wait_whole(ready_timeout);
  }
  // restart(i) without the wait: for bringing back several stopped nodes at once (restart(i)
  // waits for the whole cluster, so it needs every other node up), or for a test in which
  // something else does the waiting.
  bool start_again(std::size_t i) {
    (void)nodes_.at(i)->kill(SIGKILL);
    error_ = nodes_.at(i)->spawn();
    return error_.empty();
  }

  // Every running node is healthy (/healthz: JetStream up, its replicas current) and sees the
  // same JetStream meta leader in /jsz, and that leader is running (after kill(i) of the leader
  // this waits for the election, a few seconds). False, with error(), at the timeout.
  bool wait_ready(std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
    return poll(std::chrono::steady_clock::now() + timeout, "cluster not ready in time: ", &NatsCluster::readiness);
  }

  // wait_ready(), and then every node counts all nodes in its meta group (all must be running).
  bool wait_whole(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    return wait_ready(timeout) && poll(deadline, "cluster not whole in time: ", &NatsCluster::missing_peers);
  }

  // The meta leader's server name ("n2") as the first running node sees it; "" when none.
  std::string meta_leader() {
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      if (!running(i)) continue;
      const auto jsz = monitor(i, "/jsz");
      if (jsz.is_object() && jsz.contains("meta_cluster") && jsz["meta_cluster"].value("leader", "") != "")
        return jsz["meta_cluster"]["leader"].get<std::string>();
    }
    return {};
  }
  // The index of a server name ("n2" → 1); size() when it is not one of ours.
  std::size_t index_of(const std::string& name) const {
    for (std::size_t i = 0; i < nodes_.size(); ++i)
      if (server_name(i) == name) return i;
    return nodes_.size();
  }

  nlohmann::json monitor(std::size_t i, const std::string& target) const { return nodes_.at(i)->monitor(target); }

 private:
  // Asks `missing` every 100 ms until it says "" (true) or the deadline passes (false, with
  // error() = `late` + what was still missing).
  bool poll(std::chrono::steady_clock::time_point deadline, const char* late, std::string (NatsCluster::*missing)()) {
    for (;;) {
      error_ = (this->*missing)();
      if (error_.empty()) return true;
      if (std::chrono::steady_clock::now() > deadline) {
        error_ = late + error_;
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }

  // "" when ready, else what is missing (with the node's log tail when it died).
  std::string readiness() {
    std::string leader;
    std::size_t up = 0;
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      if (!running(i)) continue;
      ++up;
      const auto health = nats_detail::http_get(monitor_port(i), "/healthz");
      if (health.status != 200) return server_name(i) + " /healthz: " + std::to_string(health.status) + " " + health.body;
      const auto jsz = monitor(i, "/jsz");
      const std::string seen =
          jsz.is_object() && jsz.contains("meta_cluster") ? jsz["meta_cluster"].value("leader", "") : "";
      if (seen.empty()) return server_name(i) + " sees no meta leader";
      if (!leader.empty() && seen != leader) return "nodes disagree on the meta leader (" + leader + ", " + seen + ")";
      leader = seen;
    }
    if (up == 0) return "no node is running";
    // Right after a kill the others still name the dead leader until they elect a new one.
    if (const std::size_t at = index_of(leader); at == nodes_.size() || !running(at))
      return "the meta leader " + leader + " is not running";
    return {};
  }

  // "" when every node's /jsz counts all nodes in the meta group, else who counts fewer.
  std::string missing_peers() {
    for (std::size_t i = 0; i < nodes_.size(); ++i) {
      const auto jsz = monitor(i, "/jsz");
      const auto size = jsz.is_object() && jsz.contains("meta_cluster") ? jsz["meta_cluster"].value("cluster_size", 0) : 0;
      if (size != static_cast<int>(nodes_.size()))
        return server_name(i) + " counts " + std::to_string(size) + " of " + std::to_string(nodes_.size()) + " in the meta group";
    }
    return {};
  }

  TempTree dir_;
  std::vector<std::unique_ptr<nats_detail::Node>> nodes_;
  std::string error_;
};

}  // namespace ignite::testing
