// (helpers for the server tests live in a *_test.cpp so the glob picks them up; no tests here)
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "../common/host_processes.hpp"
#include "cli_helpers.hpp"
#include "server_helpers.hpp"

extern char** environ;

namespace ignite::testing {
namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return static_cast<int>(std::max<long>(0, left.count()));
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// Decodes a chunked body; false if it is incomplete. `used`: the bytes it took.
bool dechunk(const std::string& raw, std::string& out, std::size_t& used) {
  std::size_t pos = 0;
  out.clear();
  for (;;) {
    const auto eol = raw.find("\r\n", pos);
    if (eol == std::string::npos) return false;
    const std::size_t size = std::stoul(raw.substr(pos, eol - pos), nullptr, 16);
    pos = eol + 2;
    if (size == 0) {
      if (raw.size() < pos + 2) return false;
      used = pos + 2;  // the empty trailer's CRLF
      return true;
    }
    if (raw.size() < pos + size + 2) return false;
    out.append(raw, pos, size);
    pos += size + 2;
  }
}

}  // namespace

nlohmann::json HttpResponse::json() const { return nlohmann::json::parse(body); }

std::string HttpResponse::header(const std::string& name) const {
  auto it = headers.find(lower(name));
  return it == headers.end() ? "" : it->second;
}

std::string format_request(const std::string& method, const std::string& target,
                           const std::string& body, const Headers& headers, bool keep_alive) {
  std::string req = method + " " + target + " HTTP/1.1\r\n";
  const bool has_host = std::any_of(headers.begin(), headers.end(), [](const auto& h) { return lower(h.first) == "host"; });
  if (!has_host) req += "Host: 127.0.0.1\r\n";
  if (!keep_alive) req += "Connection: close\r\n";
  bool has_type = false;
  for (const auto& [k, v] : headers) {
    req += k + ": " + v + "\r\n";
    has_type = has_type || lower(k) == "content-type";
  }
  if (method == "POST" || method == "PUT") {
    if (!has_type) req += "Content-Type: application/json\r\n";
    req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  req += "\r\n" + body;
  return req;
}

namespace {

// One response from raw[pos...]; advances pos past it (status 0 and pos unchanged if incomplete).
HttpResponse parse_one(const std::string& raw, std::size_t& pos) {
  HttpResponse r;
  const auto head_end = raw.find("\r\n\r\n", pos);
  if (head_end == std::string::npos || raw.compare(pos, 7, "HTTP/1.") != 0) return r;
  std::istringstream head(raw.substr(pos, head_end - pos));
  std::string line;
  std::getline(head, line);
  const int status = std::atoi(line.substr(9, 3).c_str());
  while (std::getline(head, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    r.headers[lower(line.substr(0, colon))] = value;
  }
  const std::string rest = raw.substr(head_end + 4);
  std::size_t used = 0;
  if (lower(r.header("transfer-encoding")) == "chunked") {
    if (!dechunk(rest, r.body, used)) return HttpResponse{};
  } else if (!r.header("content-length").empty()) {
    const std::size_t len = std::stoul(r.header("content-length"));
    if (rest.size() < len) return HttpResponse{};
    r.body = rest.substr(0, len);
    used = len;
  } else {
    r.body = rest;
    used = rest.size();
  }
  r.status = status;
  pos = head_end + 4 + used;
  return r;
}

}  // namespace

HttpResponse parse_response(const std::string& raw) {
  std::size_t pos = 0;
  return parse_one(raw, pos);
}

std::vector<HttpResponse> parse_responses(const std::string& raw) {
  std::vector<HttpResponse> out;
  std::size_t pos = 0;
  for (;;) {
    HttpResponse r = parse_one(raw, pos);
    if (r.status == 0) return out;
    out.push_back(std::move(r));
  }
}

RawConnection::RawConnection(int port, const std::string& source) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return;
  if (!source.empty()) {
    sockaddr_in local{};
    local.sin_family = AF_INET;
    if (::inet_pton(AF_INET, source.c_str(), &local.sin_addr) != 1 ||
        ::bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
      close();
      return;
    }
  }
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) close();
  int one = 1;
  if (fd_ >= 0) ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

RawConnection::~RawConnection() { close(); }

void RawConnection::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

bool RawConnection::send(const std::string& bytes) {
  std::size_t done = 0;
  while (fd_ >= 0 && done < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<std::size_t>(n);
  }
  return fd_ >= 0;
}

bool RawConnection::read_until(const std::string& needle, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (fd_ >= 0 && received_.find(needle) == std::string::npos) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, remaining_ms(deadline)) <= 0) return false;
    char buf[65536];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return received_.find(needle) != std::string::npos;
    received_.append(buf, static_cast<std::size_t>(n));
  }
  return received_.find(needle) != std::string::npos;
}

bool RawConnection::read_to_eof(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (fd_ >= 0) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, remaining_ms(deadline)) <= 0) return false;
    char buf[65536];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return true;
    received_.append(buf, static_cast<std::size_t>(n));
  }
  return false;
}

HttpResponse http_request(int port, const std::string& method, const std::string& target,
                          const std::string& body, const Headers& headers,
                          std::chrono::milliseconds timeout) {
  return http_request_from("", port, method, target, body, headers, timeout);
}

HttpResponse http_request_from(const std::string& source, int port, const std::string& method,
                               const std::string& target, const std::string& body,
                               const Headers& headers, std::chrono::milliseconds timeout) {
  RawConnection c(port, source);
  if (!c.connected() || !c.send(format_request(method, target, body, headers))) return {};
  c.read_to_eof(timeout);
  return parse_response(c.received());
}

ServerProcess::ServerProcess(const ServeOptions& options) {
  static int counter = 0;
  stderr_path_ = (std::filesystem::temp_directory_path() /
                  ("ignite-serve-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".err"))
                     .string();
  std::vector<std::string> args{"serve"};
  // --port 0 unless the test picks the port itself.
  if (std::find(options.args.begin(), options.args.end(), "--port") == options.args.end()) {
    args.push_back("--port");
    args.push_back("0");
  }
  args.insert(args.end(), options.args.begin(), options.args.end());
  std::vector<std::string> argv_s{IGNITE_BIN};
  for (auto& a : with_suite_isolation(std::move(args))) argv_s.push_back(std::move(a));
  std::vector<char*> argv;
  for (auto& a : argv_s) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_s;
  for (char** e = environ; *e; ++e) {
    if (std::strncmp(*e, "IGNITE_API_KEY=", 15) != 0) env_s.emplace_back(*e);
  }
  env_s.insert(env_s.end(), options.env.begin(), options.env.end());
  std::vector<char*> envp;
  for (auto& e : env_s) envp.push_back(e.data());
  envp.push_back(nullptr);

  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0) return;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, out[1], 1);
  posix_spawn_file_actions_addopen(&fa, 2, stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  const int rc = ::posix_spawn(&pid_, argv[0], &fa, nullptr, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&fa);
  ::close(out[1]);
  if (rc != 0) {
    pid_ = -1;
    ::close(out[0]);
    return;
  }
  // The first stdout line is "listening on http://127.0.0.1:PORT".
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  while (startup_output_.find('\n') == std::string::npos) {
    pollfd p{out[0], POLLIN, 0};
    if (::poll(&p, 1, remaining_ms(deadline)) <= 0) break;
    char buf[256];
    const ssize_t n = ::read(out[0], buf, sizeof buf);
    if (n <= 0) break;
    startup_output_.append(buf, static_cast<std::size_t>(n));
  }
  ::close(out[0]);  // the server writes nothing else on stdout (and ignores SIGPIPE)
  const std::string prefix = "listening on http://127.0.0.1:";
  if (startup_output_.rfind(prefix, 0) == 0) port_ = std::atoi(startup_output_.c_str() + prefix.size());
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0 && !exit_code_) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  std::error_code ec;
  std::filesystem::remove(stderr_path_, ec);
}

std::string ServerProcess::stderr_text() const {
  std::ifstream in(stderr_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void ServerProcess::signal(int sig) const {
  if (pid_ > 0 && !exit_code_) ::kill(pid_, sig);
}

std::optional<int> ServerProcess::wait_exit(std::chrono::milliseconds timeout) {
  if (exit_code_) return exit_code_;
  const auto deadline = Clock::now() + timeout;
  while (pid_ > 0) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      return exit_code_;
    }
    if (Clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));  // no pidfd wait in libc here
  }
  return std::nullopt;
}

long ServerProcess::rss_kib() const {
  std::ifstream in("/proc/" + std::to_string(pid_) + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::atol(line.c_str() + 6);
  }
  return 0;
}

int ServerProcess::thread_count() const {
  int n = 0;
  std::error_code ec;
  for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid_) + "/task", ec);
       !ec && it != std::filesystem::directory_iterator(); it.increment(ec))
    ++n;
  return n;
}

std::string run_command(const std::string& cmd, int& rc) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) {
    rc = -1;
    return out;
  }
  char buf[4096];
  while (std::fgets(buf, sizeof buf, p)) out += buf;
  rc = ::pclose(p);
  return out;
}

ShellResult run_shell(const std::string& cmd) {
  int rc = 0;
  ShellResult r;
  r.out = run_command(cmd + " 2>&1", rc);
  r.status = rc >= 0 && WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  return r;
}

std::string sh_quote(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string examples_dir() { return std::string(IGNITE_SOURCE_DIR) + "/examples"; }
bool sandbox_available() { return ::geteuid() == 0; }

int count_processes_with(const std::string& token) {
  return static_cast<int>(host_processes_with(token).size());
}

int sandbox_processes(const ServerProcess& server, const std::string& token) {
  if (suite_isolation() != "microvm") return count_processes_with(token);
  int vms = 0;
  for (int pid : host_processes_with("/instances/i" + std::to_string(server.pid()) + "-")) {
    std::ifstream comm("/proc/" + std::to_string(pid) + "/comm");
    std::string name;
    if (comm >> name && name.rfind("qemu-system", 0) == 0) ++vms;
  }
  return vms;
}

}  // namespace ignite::testing
