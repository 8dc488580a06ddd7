#include "sandbox/microvm/firecracker_vmm.hpp"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include <spdlog/spdlog.h>

#include "docker/unix_http.hpp"
#include "sys/unix_socket.hpp"

namespace ignite::sandbox::microvm {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

std::chrono::milliseconds left(Deadline deadline) {
  return std::max(std::chrono::milliseconds(1),
                  std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()));
}

// Firecracker takes ids of letters, digits and '-' (at most 64): the scratch dir's name, so.
std::string vm_id(const fs::path& dir) {
  std::string id = "ignite-" + dir.filename().string();
  for (char& c : id)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') c = '-';
  return id.substr(0, 64);
}

}  // namespace

Result<sys::Fd> accept_from_vm(const sys::Fd& listener, const sys::ChildProcess& vmm, Deadline deadline) {
  for (;;) {
    pollfd fds[2] = {{listener.get(), POLLIN, 0}, {vmm.pidfd(), POLLIN, 0}};
    const int n = ::poll(fds, 2, static_cast<int>(std::min<long long>(left(deadline).count(), 1000)));
    if (n < 0 && errno != EINTR) return fail(Error::from_errno("poll"));
    if (n > 0 && (fds[0].revents & POLLIN)) {
      sys::Fd fd(::accept4(listener.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (fd) return fd;
      if (errno != EINTR && errno != ECONNABORTED && errno != EAGAIN) return fail(Error::from_errno("accept the agent"));
    }
    if (n > 0 && (fds[1].revents & POLLIN)) return fail(ErrorCode::unavailable, "the VMM exited before the agent connected");
    if (Clock::now() >= deadline) return fail(ErrorCode::unavailable, "the agent did not connect in time");
  }
}

Status send_api_calls(const fs::path& api_socket, const std::vector<ApiCall>& calls, Deadline deadline) {
  for (const auto& call : calls) {
    std::string answer;
    docker::HttpRequest request;
    request.method = call.method;
    request.target = call.path;
    request.body = call.body;
    request.content_type = "application/json";
    request.timeout = left(deadline);
    request.peer = "firecracker";
    // The answer is a small JSON document; more than this is not Firecracker's.
    IGNITE_TRY_ASSIGN(docker::HttpOutcome outcome,
                      docker::unix_http(api_socket.string(), request, [&](long, std::string_view piece) {
                        if (answer.size() + piece.size() > 64 * 1024) return false;
                        answer.append(piece);
                        return true;
                      }));
    if (auto took = check_api_answer(call, outcome.status); !took) {
      spdlog::warn("firecracker {} {} refused: {}", call.method, call.path, fault_message(answer));
      return took;
    }
  }
  return ok();
}

Result<BootedVm> boot_firecracker(const fs::path& binary, const FirecrackerPlan& plan, const FirecrackerFiles& files,
                                  VmmJail& jail, Deadline deadline) {
  const fs::path dir = files.api_socket.parent_path();
  // Listening before the VM exists: the agent's connection cannot come too early.
  // Non-blocking (listen_unix): a connection reset between poll and accept cannot block past
  // the deadline. The VM's dir is 0700; the socket 0600 too.
  const std::string agent_socket = files.vsock.string() + "_" + std::to_string(kAgentVsockPort);
  IGNITE_TRY_ASSIGN(sys::Fd listener, sys::listen_unix(agent_socket, SOCK_STREAM, 0600));
  // The jailed firecracker connects to it with its own uid.
  if (jail.active() && ::chown(agent_socket.c_str(), jail.uid(), jail.uid()) != 0)
    return fail(Error::from_errno("microvm: chown the agent's vsock socket"));
  // No share to assemble: the VM gets its share as disk images (firecracker_calls).
  const auto argv = firecracker_argv(binary, vmm_path(files.api_socket, jail.dir()), vm_id(dir));
  IGNITE_TRY_ASSIGN(sys::ChildProcess vmm, spawn_with_share(argv, files.console, {}, {}, &jail));
  IGNITE_TRY(connect_when_listening(files.api_socket, vmm, deadline));
  IGNITE_TRY(send_api_calls(files.api_socket, firecracker_calls(plan), deadline));
  IGNITE_TRY_ASSIGN(sys::Fd channel, accept_from_vm(listener, vmm, deadline));
  return BootedVm{std::move(vmm), std::move(channel)};
}

}  // namespace ignite::sandbox::microvm
