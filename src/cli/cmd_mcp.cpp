// `ignite mcp`: an MCP server on stdin/stdout (the stdio transport: one JSON-RPC message per
// line each way; logs on stderr). Tool calls run on their own threads, so that pings, listings
// and cancellations are answered while a program runs; the runner bounds how many sandboxes
// run at once. EOF on stdin (the client left) or SIGTERM cancels what still runs, then exits.
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

#include "cli/cancel_on_signal.hpp"
#include "cli/common.hpp"
#include "cli/context.hpp"
#include "cli/pool_flags.hpp"
#include "core/json_limits.hpp"
#include "mcp/ignite_tools.hpp"
#include "runner/runner.hpp"
#include "runner/service_index.hpp"

namespace ignite::cli {
namespace {

using Json = nlohmann::json;

// A message larger than this is refused whole (and the rest of its line skipped).
constexpr std::size_t kMaxMessageBytes = 16u << 20;
// Tool calls running or waiting for a sandbox at once; beyond, a call is refused at once.
constexpr std::size_t kMaxCallsInFlight = 64;

struct McpFlags {
  std::string services_dir;
  std::uint32_t concurrency = 0;
  api::AdhocLimits limits;
  bool allow_degraded = false;
  std::string isolation;
  PoolFlags pools;
};

// Lines from fd 0, bounded, woken by `stop` (a signal) as well as by input.
class LineReader {
 public:
  enum class Got { line, too_long, end };
  Got next(std::string& line, std::stop_token stop) {
    for (;;) {
      if (auto nl = buffer_.find('\n'); nl != std::string::npos) {
        const bool was_skipping = skipping_;
        skipping_ = false;
        line.assign(buffer_, 0, nl);
        buffer_.erase(0, nl + 1);
        if (was_skipping) continue;  // the tail of a refused message
        return Got::line;
      }
      if (buffer_.size() > kMaxMessageBytes) {
        buffer_.clear();
        if (!skipping_) {
          skipping_ = true;
          return Got::too_long;
        }
      }
      if (eof_ || stop.stop_requested()) return Got::end;
      pollfd p{0, POLLIN, 0};
      const int ready = ::poll(&p, 1, 200);
      if (ready < 0 && errno != EINTR) return Got::end;
      if (ready <= 0) continue;
      char chunk[65536];
      const ssize_t n = ::read(0, chunk, sizeof chunk);
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (n <= 0) {
        eof_ = true;
        if (!buffer_.empty() && !skipping_) buffer_ += '\n';  // a last line without newline
        continue;
      }
      buffer_.append(chunk, static_cast<std::size_t>(n));
    }
  }

 private:
  std::string buffer_;
  bool eof_ = false;
  bool skipping_ = false;
};

class StdioServer {
 public:
  explicit StdioServer(mcp::Tools& tools) : session_(tools, IGNITE_VERSION) {}

  int serve(std::stop_token stop) {
    LineReader reader;
    std::string line;
    for (;;) {
      const auto got = reader.next(line, stop);
      if (got == LineReader::Got::end) break;
      if (got == LineReader::Got::too_long) {
        send(mcp::error_reply(nullptr, mcp::kInvalidRequest,
                              "message larger than " + std::to_string(kMaxMessageBytes >> 20) + " MiB"));
        continue;
      }
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      auto message = parse_json_bounded(line);
      if (!message) {
        send(mcp::error_reply(nullptr, mcp::kParseError, "parse error: " + message.error().message));
        continue;
      }
      dispatch(std::move(*message));
      reap();
    }
    // The client is gone or we were told to stop: cancel what runs, wait for it, leave.
    {
      std::lock_guard lock(calls_mu_);
      for (auto& [id, source] : running_) source.request_stop();
    }
    calls_.clear();  // joins
    return 0;
  }

 private:
  struct Call {
    std::jthread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };

  void dispatch(Json message) {
    const mcp::MessageKind kind = mcp::classify(message);
    if (kind.cancels) {
      std::lock_guard lock(calls_mu_);
      if (auto it = running_.find(kind.cancels->dump()); it != running_.end()) it->second.request_stop();
      return;
    }
    if (!kind.tool_call) {
      if (auto reply = session_.handle(message)) send(*reply);
      return;
    }
    const std::string key = kind.id->dump();
    std::stop_source source;
    {
      std::lock_guard lock(calls_mu_);
      if (running_.size() >= kMaxCallsInFlight) {
        send(mcp::error_reply(*kind.id, mcp::kInternalError,
                              "too many tool calls in flight (" + std::to_string(kMaxCallsInFlight) + ")"));
        return;
      }
      if (!running_.emplace(key, source).second) {
        send(mcp::error_reply(*kind.id, mcp::kInvalidRequest, "a request with this id is still running"));
        return;
      }
    }
    auto done = std::make_shared<std::atomic<bool>>(false);
    calls_.push_back({std::jthread([this, message = std::move(message), key, source, done] {
                        auto reply = session_.handle(message, source.get_token());
                        {
                          std::lock_guard lock(calls_mu_);
                          running_.erase(key);
                        }
                        if (reply) send(*reply);
                        done->store(true);
                      }),
                      done});
  }

  void reap() {
    calls_.remove_if([](const Call& c) { return c.done->load(); });
  }

  void send(const Json& message) {
    // Security: invalid UTF-8 from a program is already base64 in the document; `replace`
    // keeps any other stray byte from making the line unserializable.
    const std::string line = message.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n";
    std::lock_guard lock(out_mu_);
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fflush(stdout);
  }

  mcp::Session session_;
  std::mutex out_mu_;
  std::mutex calls_mu_;
  std::map<std::string, std::stop_source> running_;  // by the request id's JSON text
  std::list<Call> calls_;
};

int serve_mcp(McpFlags f) {
  // Before anything can spawn a sandbox or a thread: see cancel_on_signal.hpp.
  auto signals = CancelOnSignal::start();
  if (!signals) return report_error(signals.error());
  auto made = make_transport_host(f.services_dir, f.pools, f.limits, f.allow_degraded, f.isolation);
  if (!made) return report_error(made.error());
  engine::Engine& engine = *made->host.engine;

  runner::RunnerOptions ro;
  ro.max_running = f.concurrency != 0 ? f.concurrency : std::max(1u, std::thread::hardware_concurrency());
  ro.max_queued = kMaxCallsInFlight;
  ro.limits = f.limits;
  runner::Runner runner(ro, engine);
  mcp::IgniteTools tools(runner, made->services.get(), [&] { return engine.catalog().list(); });
  spdlog::info("MCP server on stdio ({} sandboxes at once)", ro.max_running);
  StdioServer server(tools);
  return server.serve((*signals)->token());
}

}  // namespace

void register_mcp(CLI::App& app, Context& ctx) {
  auto f = std::make_shared<McpFlags>();
  // An agent host starts one per conversation: keep one python slot warm, the rest on demand.
  f->pools.pool = "python=1..4,node=0..4,bun=0..4,deno=0..2,go=0..2";
  auto* cmd = app.add_subcommand("mcp", "Serve MCP (Model Context Protocol) on stdin/stdout for AI agents");
  cmd->add_option("--services", f->services_dir, "Directory of service directories (the run_service tool)");
  cmd->add_option("--concurrency", f->concurrency, "Sandboxes at once (default: cores)");
  cmd->add_option("--max-memory-mb", f->limits.max_memory_mb, "Ceiling for memoryMb in run_code")->capture_default_str();
  cmd->add_option("--max-timeout-ms", f->limits.max_timeout_ms, "Ceiling for timeoutMs in run_code")->capture_default_str();
  add_pool_flags(cmd, f->pools);
  add_isolation_option(cmd, f->isolation, "Backend of run_code and of services that name none (default: native)");
  cmd->add_flag("--allow-degraded", f->allow_degraded, "Run even if cgroup limits cannot be enforced (rlimits only)");
  cmd->callback([f, &ctx] { ctx.exit_code = serve_mcp(*f); });
}

}  // namespace ignite::cli
