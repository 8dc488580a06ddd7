#include "server/http_listener.hpp"

#include <array>
#include <latch>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>

#include "server/http_connection.hpp"

namespace ignite::server {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

// Security: one client is one address for IPv4, one /64 for IPv6 (what a single host or
// subscriber is usually given: counting per /128 would let it open 2^64 "peers").
std::string peer_key_of(const asio::ip::address& address) {
  if (address.is_v4()) return address.to_string();
  const auto v6 = address.to_v6();
  if (v6.is_v4_mapped()) return asio::ip::make_address_v4(asio::ip::v4_mapped, v6).to_string();
  auto bytes = v6.to_bytes();
  for (std::size_t i = 8; i < bytes.size(); ++i) bytes[i] = 0;
  return asio::ip::address_v6(bytes).to_string() + "/64";
}

std::string peer_of(const asio::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    return asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6()).to_string();
  return address.to_string();
}

// A connection over its address's cap: told so (429), then closed once the client has had a
// moment to read it. Bounded separately, so refusing costs nothing unbounded either.
constexpr std::size_t kMaxRefusing = 64;
constexpr std::chrono::seconds kRefusalLinger{1};
constexpr std::size_t kRefusalDrain = 64 << 10;

class Refusal : public std::enable_shared_from_this<Refusal> {
 public:
  Refusal(tcp::socket socket, std::atomic<std::size_t>& count)
      : socket_(std::move(socket)), timer_(socket_.get_executor()), count_(count) {}
  ~Refusal() { --count_; }

  void start() {
    static const std::string kBody =
        R"({"error":{"code":"too_many_connections","message":"too many open connections from this address"}})"
        "\n";
    static const std::string kResponse = "HTTP/1.1 429 Too Many Requests\r\nContent-Type: application/json\r\n"
                                         "Retry-After: 1\r\nConnection: close\r\nContent-Length: " +
                                         std::to_string(kBody.size()) + "\r\n\r\n" + kBody;
    timer_.expires_after(kRefusalLinger);
    timer_.async_wait([self = shared_from_this()](const error_code&) {
      error_code ignored;
      self->socket_.close(ignored);
    });
    asio::async_write(socket_, asio::buffer(kResponse), [self = shared_from_this()](const error_code& ec, std::size_t) {
      if (ec) return;
      error_code ignored;
      self->socket_.shutdown(tcp::socket::shutdown_send, ignored);
      self->drain();
    });
  }

 private:
  void drain() {
    socket_.async_read_some(asio::buffer(scratch_), [self = shared_from_this()](const error_code& ec, std::size_t n) {
      self->drained_ += n;
      if (ec || self->drained_ > kRefusalDrain) {
        self->timer_.cancel();  // the client closed (or will not stop): done
        return;
      }
      self->drain();
    });
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  std::atomic<std::size_t>& count_;
  std::array<char, 4096> scratch_{};
  std::size_t drained_ = 0;
};

}  // namespace

HttpListener::HttpListener(HttpLimits limits, HttpApp& app)
    : limits_(std::move(limits)),
      app_(app),
      accept_strand_(asio::make_strand(io_)),
      acceptor_(accept_strand_),
      retry_timer_(accept_strand_) {}

HttpListener::~HttpListener() {
  stopping_ = true;
  stop();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

Result<int> HttpListener::bind(const std::string& host, int port) {
  const std::string where = "cannot listen on " + host + ":" + std::to_string(port);
  error_code ec;
  // A synchronous resolve: no resolver thread (see runner/fixed_pool.hpp on threads and clone).
  tcp::resolver resolver(io_);
  const auto results = resolver.resolve(host, std::to_string(port), tcp::resolver::passive, ec);
  if (ec || results.empty()) return fail(ErrorCode::unavailable, where + ": " + ec.message());
  const tcp::endpoint endpoint = results.begin()->endpoint();
  acceptor_.open(endpoint.protocol(), ec);
  // SO_REUSEADDR only: SO_REUSEPORT would let a second server (or any process of this user)
  // bind the same port and take a share of our clients.
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  // The kernel's maximum backlog: a burst of connections must not wait a SYN retransmit.
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    error_code ignored;
    acceptor_.close(ignored);
    return fail(ErrorCode::unavailable, where + ": " + ec.message());
  }
  return static_cast<int>(acceptor_.local_endpoint().port());
}

void HttpListener::run() {
  // Every I/O thread exists and runs before the first connection is accepted: no thread is
  // ever created while a sandbox may be cloning (see runner/fixed_pool.hpp).
  // Without outstanding work run() returns (and the context counts as stopped): the guard keeps
  // every thread in it until stop() or the end of shutdown().
  auto guard = asio::make_work_guard(io_);
  const std::size_t extra = limits_.io_threads > 1 ? limits_.io_threads - 1 : 0;
  std::latch started(static_cast<std::ptrdiff_t>(extra));
  for (std::size_t i = 0; i < extra; ++i) {
    threads_.emplace_back([this, &started] {
      started.count_down();
      io_.run();
    });
  }
  started.wait();
  asio::post(accept_strand_, [this] { accept_next(); });
  io_.run();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void HttpListener::shutdown(std::chrono::milliseconds grace) {
  stopping_ = true;
  asio::post(accept_strand_, [this, deadline = std::chrono::steady_clock::now() + grace] {
    error_code ignored;
    acceptor_.close(ignored);
    retry_timer_.cancel();
    std::vector<std::shared_ptr<HttpConnection>> live;
    {
      std::lock_guard lock(mu_);
      for (auto& weak : live_) {
        if (auto c = weak.lock()) live.push_back(std::move(c));
      }
    }
    for (auto& c : live) c->shutdown();
    wait_for_connections(deadline);
  });
}

void HttpListener::wait_for_connections(std::chrono::steady_clock::time_point deadline) {
  {
    std::lock_guard lock(mu_);
    if (connections_ == 0 || std::chrono::steady_clock::now() >= deadline) {
      io_.stop();
      return;
    }
  }
  retry_timer_.expires_after(std::chrono::milliseconds(20));
  retry_timer_.async_wait([this, deadline](const error_code&) { wait_for_connections(deadline); });
}

void HttpListener::stop() {
  stopping_ = true;
  io_.stop();
}

bool HttpListener::enter_idle() {
  std::size_t now = idle_.load();
  do {
    if (now >= limits_.max_idle) return false;
  } while (!idle_.compare_exchange_weak(now, now + 1));
  return true;
}

void HttpListener::leave_idle() { --idle_; }

void HttpListener::release(const std::string& peer_key) {
  std::lock_guard lock(mu_);
  --connections_;
  if (auto it = per_peer_.find(peer_key); it != per_peer_.end() && --it->second == 0) per_peer_.erase(it);
  if (accept_paused_ && !stopping_ && connections_ < limits_.max_connections) {
    accept_paused_ = false;
    asio::post(accept_strand_, [this] { accept_next(); });
  }
}

void HttpListener::accept_next() {
  if (stopping_) return;
  {
    std::lock_guard lock(mu_);
    if (connections_ >= limits_.max_connections) {
      accept_paused_ = true;  // release() resumes; meanwhile clients wait in the backlog
      return;
    }
  }
  acceptor_.async_accept(asio::make_strand(io_), [this](const error_code& ec, tcp::socket socket) {
    on_accept(ec, std::move(socket));
  });
}

void HttpListener::on_accept(const error_code& ec, tcp::socket socket) {
  if (ec == asio::error::operation_aborted || stopping_) return;
  if (ec) {
    // EMFILE and friends: try again shortly instead of spinning on the same error.
    retry_timer_.expires_after(std::chrono::milliseconds(50));
    retry_timer_.async_wait([this](const error_code& wec) {
      if (!wec) accept_next();
    });
    return;
  }
  error_code peer_ec;
  const auto endpoint = socket.remote_endpoint(peer_ec);
  if (peer_ec) return accept_next();  // already gone
  const std::string peer = peer_of(endpoint.address());
  const std::string key = peer_key_of(endpoint.address());
  bool over_cap = false;
  {
    std::lock_guard lock(mu_);
    std::size_t& mine = per_peer_[key];
    over_cap = mine >= limits_.max_connections_per_peer && peer != limits_.unlimited_peer;
    if (!over_cap) {
      ++mine;
      ++connections_;
    } else if (mine == 0) {
      per_peer_.erase(key);
    }
  }
  if (over_cap) {
    refuse(std::move(socket));
  } else {
    auto connection = std::make_shared<HttpConnection>(std::move(socket), *this, peer, key);
    {
      std::lock_guard lock(mu_);
      if (live_.size() >= 2 * connections_ + 64)
        std::erase_if(live_, [](const std::weak_ptr<HttpConnection>& w) { return w.expired(); });
      live_.push_back(connection);
    }
    connection->start();
  }
  accept_next();
}

void HttpListener::refuse(tcp::socket socket) {
  app_.on_connection_refused();
  if (refusing_.fetch_add(1) >= kMaxRefusing) {
    --refusing_;
    error_code ignored;
    socket.close(ignored);  // refusing politely is bounded too
    return;
  }
  std::make_shared<Refusal>(std::move(socket), refusing_)->start();
}

}  // namespace ignite::server
