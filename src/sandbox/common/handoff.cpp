#include "sandbox/common/handoff.hpp"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <cstdio>

#include "core/utf8.hpp"
#include "sandbox/common/drop_dirs.hpp"
#include "sys/random.hpp"

namespace ignite::sandbox {
namespace {

void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  out += '"';
}

void append_array(std::string& out, const std::vector<std::string>& items) {
  out += '[';
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) out += ',';
    append_json_string(out, items[i]);
  }
  out += ']';
}

}  // namespace

bool job_is_encodable(const Job& job) {
  auto valid = [](const std::vector<std::string>& v) {
    for (const auto& s : v) {
      if (!is_valid_utf8(s)) return false;
    }
    return true;
  };
  return valid(job.argv) && valid(job.env) && is_valid_utf8(job.workdir.string());
}

std::string make_nonce() { return sys::random_hex(16); }

std::optional<int> exec_failure(std::string_view out, std::string_view nonce) {
  if (nonce.empty() || !out.starts_with(kExecFailedMarker)) return std::nullopt;
  out.remove_prefix(kExecFailedMarker.size());
  if (!out.starts_with(nonce) || out.size() < nonce.size() + 3 || out[nonce.size()] != ' ' || !out.ends_with('\n'))
    return std::nullopt;
  out = out.substr(nonce.size() + 1, out.size() - nonce.size() - 2);
  int err = 0;
  auto [p, ec] = std::from_chars(out.data(), out.data() + out.size(), err);
  if (ec != std::errc() || p != out.data() + out.size()) return std::nullopt;
  return err;
}

std::optional<Error> exec_failure_error(std::string_view stdout_data, std::string_view nonce) {
  const auto err = exec_failure(stdout_data, nonce);
  if (!err) return std::nullopt;
  Error e = Error::from_errno("sandbox setup failed while execve", *err);
  e.code = ErrorCode::invalid_argument;
  return e;
}

Result<std::string> encode_job_header(const Job& job, std::string_view nonce) {
  if (!job_is_encodable(job))
    return fail(ErrorCode::invalid_argument, "a warm slot takes only UTF-8 arguments and variables");
  std::string json = "{\"argv\":";
  append_array(json, job.argv);
  json += ",\"env\":";
  append_array(json, job.env);
  json += ",\"cwd\":";
  append_json_string(json, job.workdir.string());
  if (!nonce.empty()) {
    json += ",\"nonce\":";
    append_json_string(json, nonce);
  }
  json += '}';
  return std::to_string(json.size()) + "\n" + json;
}

std::optional<std::string> await_ready(int stdout_fd, int exit_fd, std::chrono::milliseconds timeout) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + timeout;
  std::string got;
  while (got.size() < kReadyMarker.size()) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return "the bootstrap was not ready in time";
    pollfd fds[2] = {{stdout_fd, POLLIN, 0}, {exit_fd, POLLIN, 0}};
    int n = ::poll(fds, 2, static_cast<int>(left));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return std::string("poll: ") + std::strerror(errno);
    if (fds[0].revents & (POLLIN | POLLHUP)) {
      char buf[64];
      ssize_t r = ::read(stdout_fd, buf, kReadyMarker.size() - got.size());
      if (r <= 0) return "the bootstrap closed its stdout";
      got.append(buf, static_cast<std::size_t>(r));
      if (kReadyMarker.substr(0, got.size()) != got) return "the bootstrap wrote before it was ready";
    } else if (fds[1].revents) {
      return "the bootstrap exited";
    }
  }
  return std::nullopt;
}

Result<HandOff> prepare_hand_off(const Job& job, int exit_fd, int stdout_fd,
                                 const std::vector<std::filesystem::path>& drop_dirs,
                                 const std::vector<std::filesystem::path>& drop_hosts) {
  pollfd idle[2] = {{exit_fd, POLLIN, 0}, {stdout_fd, POLLIN, 0}};
  if (::poll(idle, 2, 0) != 0)
    return fail(ErrorCode::unavailable, "the warm slot's bootstrap exited or wrote while idle");
  IGNITE_TRY(place_job_files(job, drop_dirs, drop_hosts));
  HandOff h;
  h.nonce = make_nonce();
  IGNITE_TRY_ASSIGN(h.stdin_data, encode_job_header(job, h.nonce));
  h.stdin_data += job.stdin_data;
  return h;
}

std::string read_available(int fd, std::size_t max) {
  std::string out(max, '\0');
  pollfd p{fd, POLLIN, 0};
  ssize_t n = ::poll(&p, 1, 0) == 1 ? ::read(fd, out.data(), out.size()) : 0;
  out.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
  return out;
}

}  // namespace ignite::sandbox
