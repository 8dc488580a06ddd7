// `ignite serve` under test: the real binary on 127.0.0.1:0, and a small HTTP/1.1 client over
// raw sockets (so tests control exactly what goes on the wire: slow, huge, cut-off requests).
#pragma once
#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli_helpers.hpp"

namespace ignite::testing {

struct HttpResponse {
  int status = 0;                              // 0: no (complete) response
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;                            // de-chunked
  nlohmann::json json() const;                 // parses body (throws, failing the test, if not JSON)
  std::string header(const std::string& name) const;
};

using Headers = std::vector<std::pair<std::string, std::string>>;

// One request on a fresh connection (Connection: close), read to the end.
HttpResponse http_request(int port, const std::string& method, const std::string& target,
                          const std::string& body = "", const Headers& headers = {},
                          std::chrono::milliseconds timeout = std::chrono::seconds(30));

// The same from a chosen loopback source address ("127.0.0.2"): the server counts connections
// per address, so tests that play several clients give each its own.
HttpResponse http_request_from(const std::string& source, int port, const std::string& method,
                               const std::string& target, const std::string& body = "",
                               const Headers& headers = {},
                               std::chrono::milliseconds timeout = std::chrono::seconds(30));

// A connection the test drives by hand (streaming, disconnects, raw bytes).
class RawConnection {
 public:
  // `source`: the local address to connect from ("" = the kernel's choice, 127.0.0.1).
  explicit RawConnection(int port, const std::string& source = "");
  ~RawConnection();
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;
  bool connected() const { return fd_ >= 0; }
  bool send(const std::string& bytes);
  // Reads until `needle` has been received (true) or the timeout/EOF (false). All received
  // bytes accumulate in received().
  bool read_until(const std::string& needle, std::chrono::milliseconds timeout);
  // True when the server closed the connection (EOF or reset) within the timeout.
  bool read_to_eof(std::chrono::milliseconds timeout);
  const std::string& received() const { return received_; }
  void close();

 private:
  int fd_ = -1;
  std::string received_;
};

// "POST /x HTTP/1.1\r\nHost: …\r\n…\r\n\r\nbody" with Content-Length.
std::string format_request(const std::string& method, const std::string& target,
                           const std::string& body, const Headers& headers, bool keep_alive = false);

// Parses one complete response from raw bytes (status 0 if incomplete).
HttpResponse parse_response(const std::string& raw);
// Parses every complete response in `raw`, in order (pipelining).
std::vector<HttpResponse> parse_responses(const std::string& raw);

struct ServeOptions {
  std::vector<std::string> args;  // after `serve --port 0`
  std::vector<std::string> env;   // extra "K=V"
};

// `ignite serve --port 0 …` as a child process; stderr goes to a temp file (the access log).
class ServerProcess {
 public:
  explicit ServerProcess(const ServeOptions& options);
  ~ServerProcess();  // SIGKILL if still running
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  bool started() const { return port_ > 0; }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string stderr_text() const;
  void signal(int sig) const;
  // The exit code, or nullopt if it did not exit in time.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);
  // Resident memory of the server now, from /proc (0 if gone).
  long rss_kib() const;
  // Threads of the server now (/proc/<pid>/task; 0 if gone).
  int thread_count() const;

  HttpResponse get(const std::string& target, const Headers& headers = {}) const {
    return http_request(port_, "GET", target, "", headers);
  }
  HttpResponse post(const std::string& target, const std::string& body, const Headers& headers = {}) const {
    return http_request(port_, "POST", target, body, headers);
  }

 private:
  pid_t pid_ = -1;
  int port_ = 0;
  std::string stderr_path_;
  std::string startup_output_;
  std::optional<int> exit_code_;
};

std::string examples_dir();  // IGNITE_SOURCE_DIR/examples
// `cmd` through the shell; its stdout, and its wait status in `rc`.
std::string run_command(const std::string& cmd, int& rc);
// `cmd` through the shell: its stdout and stderr together, and its exit status (-1: no exit).
struct ShellResult {
  int status = -1;
  std::string out;
};
ShellResult run_shell(const std::string& cmd);
// `text` as one single-quoted shell word.
std::string sh_quote(const std::string& text);
bool sandbox_available();    // root: the native sandbox works here

// Skips a test that needs the native sandbox where it cannot run, saying why.
#define REQUIRE_SANDBOX() \
  if (!::ignite::testing::sandbox_available())      \
  GTEST_SKIP() << "needs root for the native sandbox (rootless: issue 4)"

// Processes on this host whose command line contains `token` (sandboxed programs included).
int count_processes_with(const std::string& token);
// The host processes of `server`'s sandboxes running the program marked with `token`: the
// program itself on native, the VMs' QEMU on microvm (the program is in the guest, invisible
// here; a VM's command line names its dir in the server's instance dir).
int sandbox_processes(const ServerProcess& server, const std::string& token);

// Skips a test that cannot apply when the suite runs on another backend
// (IGNITE_E2E_ISOLATION), saying why.
#define NATIVE_SUITE_ONLY(why)                                  \
  if (!::ignite::testing::suite_isolation().empty())           \
  GTEST_SKIP() << "not on " << ::ignite::testing::suite_isolation() << ": " << why

}  // namespace ignite::testing
