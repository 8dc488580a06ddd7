// A Docker daemon for the tests: the one DOCKER_HOST names if it answers, else our own dockerd
// on its own socket, data root and exec root, so it never touches a system dockerd (nor does a
// system dockerd's state leak into the tests). Started on first use, stopped (SIGTERM, then
// SIGKILL after 20 s) when the test binary exits; DOCKER_HOST points at it meanwhile.
//
//   const auto& daemon = ignite::testing::docker_daemon();
//   if (!daemon.ready) GTEST_SKIP() << daemon.why;
//   auto client = ignite::docker::EngineClient::from_env();
//
// Our dockerd runs with --bridge=none --iptables=false: the tests use NetworkMode none, and a
// test run must not add a bridge or iptables rules to the host. A daemon another test binary
// started on the same socket is used as is (and stopped by whoever started it).
#pragma once
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

#include "docker/engine_client.hpp"

namespace ignite::testing {

inline constexpr const char* kTestDockerSocket = "/run/ignite-test-docker.sock";
inline constexpr const char* kTestDockerRoot = "/var/lib/ignite-test-docker";
inline constexpr const char* kTestDockerExecRoot = "/run/ignite-test-docker";
inline constexpr const char* kTestDockerLog = "/run/ignite-test-docker.log";

class DockerDaemon {
 public:
  bool ready = false;
  std::string why;     // when not ready: the reason the tests skip
  std::string socket;  // when ready

  DockerDaemon() { start(); }
  ~DockerDaemon() { stop(); }
  DockerDaemon(const DockerDaemon&) = delete;
  DockerDaemon& operator=(const DockerDaemon&) = delete;

 private:
  static bool answers(const std::string& path) {
    docker::EngineOptions options;
    options.socket_path = path;
    options.timeout = std::chrono::milliseconds(2000);
    return docker::EngineClient(options).ping().has_value();
  }

  void use(const std::string& path) {
    socket = path;
    ::setenv("DOCKER_HOST", ("unix://" + path).c_str(), 1);
    ready = true;
  }

  static std::string log_tail() {
    std::ifstream in(kTestDockerLog);
    std::stringstream all;
    all << in.rdbuf();
    std::string text = all.str();
    if (text.size() > 600) text = text.substr(text.size() - 600);
    return text;
  }

  void start() {
    if (const char* host = std::getenv("DOCKER_HOST"); host != nullptr && *host != '\0') {
      auto path = docker::socket_from_env();
      if (path && answers(*path)) return use(*path);
    }
    if (answers(kTestDockerSocket)) return use(kTestDockerSocket);
    const char* binary = "/usr/sbin/dockerd";
    if (::access(binary, X_OK) != 0) {
      why = "dockerd is not installed (/usr/sbin/dockerd; scripts/install-deps installs docker.io)";
      return;
    }
    if (::geteuid() != 0) {
      why = "dockerd needs root and no daemon answers on " + std::string(kTestDockerSocket);
      return;
    }
    ::mkdir(kTestDockerRoot, 0700);
    const std::string data_root = std::string("--data-root=") + kTestDockerRoot;
    const std::string exec_root = std::string("--exec-root=") + kTestDockerExecRoot;
    const std::string pidfile = std::string("--pidfile=") + kTestDockerExecRoot + ".pid";
    const std::string host = std::string("--host=unix://") + kTestDockerSocket;
    const pid_t child = ::fork();
    if (child < 0) {
      why = "fork for dockerd failed";
      return;
    }
    if (child == 0) {
      // Dies with the test binary even when it crashes (PDEATHSIG follows this thread).
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      const int log = ::open(kTestDockerLog, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
      if (log >= 0) {
        ::dup2(log, 1);
        ::dup2(log, 2);
      }
      const int null = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (null >= 0) ::dup2(null, 0);
      ::execl(binary, binary, data_root.c_str(), exec_root.c_str(), pidfile.c_str(), host.c_str(),
              "--bridge=none", "--iptables=false", "--ip-masq=false", "--log-level=warn",
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      if (answers(kTestDockerSocket)) {
        pid_ = child;
        return use(kTestDockerSocket);
      }
      int status = 0;
      if (::waitpid(child, &status, WNOHANG) == child) {
        // Another test binary may have won the race for the same socket: use its daemon.
        if (answers(kTestDockerSocket)) return use(kTestDockerSocket);
        why = "dockerd exited while starting: " + log_tail();
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    why = "dockerd did not answer on " + std::string(kTestDockerSocket) + " within 30 s: " + log_tail();
  }

  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGTERM);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }

  pid_t pid_ = -1;
};

// The daemon for this test binary: started on first use, stopped at exit (a function-static).
inline const DockerDaemon& docker_daemon() {
  static DockerDaemon daemon;
  return daemon;
}

}  // namespace ignite::testing
