// EngineClient against a fake daemon on a Unix socket: what a broken or hostile daemon sends
// cannot make the client allocate without bound, and its error text reaches the caller.
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <thread>

#include "docker/engine_client.hpp"
#include "sys/fd.hpp"

namespace ignite::docker {
namespace {

// Answers one connection with `head`, then writes `repeat` again and again until the client
// hangs up (when `repeat` is not empty).
class FakeDaemon {
 public:
  FakeDaemon(std::string head, std::string repeat) {
    path_ = ::testing::TempDir() + "/ignite-fake-docker-" + std::to_string(::getpid()) + ".sock";
    ::unlink(path_.c_str());
    listener_ = sys::Fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, path_.c_str(), sizeof addr.sun_path - 1);
    if (::bind(listener_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(listener_.get(), 1) != 0)
      return;
    thread_ = std::thread([this, head = std::move(head), chunk = std::move(repeat)] {
      sys::Fd conn(::accept(listener_.get(), nullptr, nullptr));
      if (!conn) return;
      char buf[4096];
      static_cast<void>(::read(conn.get(), buf, sizeof buf));  // the request; not checked
      if (::send(conn.get(), head.data(), head.size(), MSG_NOSIGNAL) < 0) return;
      while (!chunk.empty() && ::send(conn.get(), chunk.data(), chunk.size(), MSG_NOSIGNAL) > 0) {
      }
    });
  }
  ~FakeDaemon() {
    if (thread_.joinable()) thread_.join();
    ::unlink(path_.c_str());
  }
  EngineClient client(std::size_t max_body) const {
    EngineOptions options;
    options.socket_path = path_;
    options.max_body = max_body;
    options.timeout = std::chrono::seconds(20);
    return EngineClient(options);
  }

 private:
  std::string path_;
  sys::Fd listener_;
  std::thread thread_;
};

TEST(DockerEngineBounds, an_endless_response_body_stops_at_the_cap) {
  FakeDaemon daemon("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 10000000000\r\n\r\n",
                    std::string(1 << 16, 'x'));
  auto answer = daemon.client(1 << 20).version();
  ASSERT_FALSE(answer);
  EXPECT_EQ(answer.error().code, ErrorCode::resource_exhausted);
  EXPECT_NE(answer.error().message.find("larger than 1048576 bytes"), std::string::npos) << answer.error().message;
}

std::string frame(char stream, std::size_t size) {
  const auto n = static_cast<std::uint32_t>(size);
  return std::string{stream, 0, 0, 0, static_cast<char>(n >> 24), static_cast<char>((n >> 16) & 0xff),
                     static_cast<char>((n >> 8) & 0xff), static_cast<char>(n & 0xff)} +
         std::string(size, stream == 1 ? 'o' : 'e');
}

TEST(DockerEngineBounds, endless_logs_stop_once_both_streams_are_full) {
  FakeDaemon daemon("HTTP/1.1 200 OK\r\nContent-Type: application/vnd.docker.raw-stream\r\n"
                    "Connection: close\r\n\r\n",
                    frame(1, 1 << 15) + frame(2, 1 << 15));
  auto logs = daemon.client(1 << 20).logs("abc", 1000);
  ASSERT_TRUE(logs) << logs.error().message;
  EXPECT_EQ(logs->out, std::string(1000, 'o'));
  EXPECT_EQ(logs->err, std::string(1000, 'e'));
  EXPECT_TRUE(logs->out_truncated);
  EXPECT_TRUE(logs->err_truncated);
}

TEST(DockerEngineBounds, the_daemons_error_message_becomes_the_error) {
  const std::string body = R"({"message":"No such container: abc"})";
  FakeDaemon daemon("HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: " +
                        std::to_string(body.size()) + "\r\n\r\n" + body,
                    "");
  auto answer = daemon.client(1 << 20).inspect_container("abc");
  ASSERT_FALSE(answer);
  EXPECT_EQ(answer.error().code, ErrorCode::invalid_argument);
  EXPECT_EQ(answer.error().message, "docker GET /v1.41/containers/abc/json: HTTP 404: No such container: abc");
}

}  // namespace
}  // namespace ignite::docker
