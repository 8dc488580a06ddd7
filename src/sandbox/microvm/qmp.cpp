#include "sandbox/microvm/qmp.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <thread>

#include "core/json_limits.hpp"
#include "sandbox/microvm/vmm_process.hpp"
#include "sys/write_all.hpp"

namespace ignite::sandbox::microvm {
namespace {

using Clock = std::chrono::steady_clock;
using nlohmann::json;

// QMP answers are small (query-migrate is the largest we ask for); a longer line is refused
// rather than buffered: QEMU is the next boundary after the guest kernel, not trusted blindly.
constexpr std::size_t kMaxLine = 64 * 1024;

int ms_left(Deadline deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return static_cast<int>(std::clamp<long long>(left, 0, 100));
}

// A string member of an answer, "" when absent or not a string (never a throw).
std::string text_of(const json& object, const char* key) {
  if (!object.is_object()) return {};
  const auto it = object.find(key);
  return it != object.end() && it->is_string() ? it->get<std::string>().substr(0, 300) : std::string();
}

}  // namespace

Result<Qmp> Qmp::open(const std::filesystem::path& socket, const sys::ChildProcess& qemu, Deadline deadline) {
  IGNITE_TRY_ASSIGN(sys::Fd fd, connect_when_listening(socket, qemu, deadline));
  Qmp qmp(std::move(fd), qemu);
  IGNITE_TRY_ASSIGN(std::string greeting, qmp.next_line(deadline));
  if (greeting.find("\"QMP\"") == std::string::npos) return fail(ErrorCode::unavailable, "QMP: no greeting");
  IGNITE_TRY(qmp.execute("qmp_capabilities", json::object(), deadline));
  return qmp;
}

Status Qmp::send(const std::string& line, int fd_to_pass) {
  iovec iov{const_cast<char*>(line.data()), line.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
  if (fd_to_pass >= 0) {
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd_to_pass, sizeof(int));
  }
  // The fd travels with the first byte; the rest (if a short write left any) follows plainly.
  ssize_t n;
  do n = ::sendmsg(fd_.get(), &msg, MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  if (n < 0) return fail(Error::from_errno("QMP: send"));
  if (!sys::send_all(fd_.get(), std::string_view(line).substr(static_cast<std::size_t>(n))))
    return fail(Error::from_errno("QMP: send"));
  return ok();
}

Result<std::string> Qmp::next_line(Deadline deadline) {
  char chunk[4096];
  for (;;) {
    if (const auto nl = buf_.find('\n'); nl != std::string::npos) {
      std::string line = buf_.substr(0, nl);
      buf_.erase(0, nl + 1);
      return line;
    }
    if (buf_.size() > kMaxLine) return fail(ErrorCode::internal, "QMP: an answer over 64 KiB");
    if (Clock::now() > deadline) return fail(ErrorCode::unavailable, "QMP: QEMU did not answer in time");
    pollfd fds[2] = {{fd_.get(), POLLIN, 0}, {qemu_->pidfd(), POLLIN, 0}};
    if (::poll(fds, 2, ms_left(deadline)) < 0 && errno != EINTR) return fail(Error::from_errno("QMP: poll"));
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      const ssize_t n = ::read(fd_.get(), chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return fail(ErrorCode::unavailable, "QMP: QEMU closed the connection");
      buf_.append(chunk, static_cast<std::size_t>(n));
    } else if (fds[1].revents & POLLIN) {
      return fail(ErrorCode::unavailable, "QMP: QEMU exited");
    }
  }
}

Result<json> Qmp::next_answer(Deadline deadline) {
  for (;;) {
    IGNITE_TRY_ASSIGN(std::string line, next_line(deadline));
    IGNITE_TRY_ASSIGN(json answer, parse_json_bounded(line, 16));
    if (!answer.is_object()) return fail(ErrorCode::internal, "QMP: an answer that is not an object");
    if (answer.contains("event")) continue;
    if (auto it = answer.find("return"); it != answer.end()) return *it;
    if (auto it = answer.find("error"); it != answer.end())
      return fail(ErrorCode::internal, "QMP: " + text_of(*it, "class") + ": " + text_of(*it, "desc"));
    return fail(ErrorCode::internal, "QMP: an answer with neither return nor error");
  }
}

Result<json> Qmp::execute(std::string_view command, const json& arguments, Deadline deadline) {
  json request{{"execute", command}};
  if (!arguments.empty()) request["arguments"] = arguments;
  IGNITE_TRY(send(request.dump() + "\n", -1));
  return next_answer(deadline);
}

Status Qmp::pass_fd(std::string_view name, int fd, Deadline deadline) {
  const json request{{"execute", "getfd"}, {"arguments", {{"fdname", name}}}};
  IGNITE_TRY(send(request.dump() + "\n", fd));
  IGNITE_TRY(next_answer(deadline));
  return ok();
}

Status Qmp::wait_for_migration(Deadline deadline) {
  for (;;) {
    IGNITE_TRY_ASSIGN(json info, execute("query-migrate", json::object(), deadline));
    const std::string status = text_of(info, "status");
    if (status == "completed") return ok();
    if (status == "failed" || status == "cancelled")
      return fail(ErrorCode::unavailable, "migration " + status + ": " + text_of(info, "error-desc"));
    if (Clock::now() > deadline) return fail(ErrorCode::unavailable, "migration did not complete in time");
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

}  // namespace ignite::sandbox::microvm
