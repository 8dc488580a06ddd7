// The NATS test harness itself: NatsServer and NatsCluster (tests/common/nats_servers.hpp) run
// real nats-server processes whose JetStream data survives a restart and a node's death, and
// the npm-based Ignis client (tests/nats_client/ignis_client.mjs) reads status updates as
// CONTRACT §6 has them. The client is checked against a stand-in worker
// (tests/nats_client/stand_in_worker.mjs), not `ignite worker`: these tests are about the
// harness, so the worker's own tests can trust it.
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "../common/cnats_client.hpp"
#include "../common/nats_servers.hpp"
#include "ignis_client.hpp"

extern char** environ;

namespace ignite::testing {
namespace {

#define REQUIRE_NATS_SERVER()                                                  \
  do {                                                                         \
    if (auto why = nats_server_unavailable(); !why.empty()) GTEST_SKIP() << why; \
  } while (0)

TEST(NatsServerHarness, a_stream_survives_a_server_restart_on_the_same_port) {
  REQUIRE_NATS_SERVER();
  NatsServer nats;
  ASSERT_TRUE(nats.ok()) << nats.error();
  const std::string url = nats.url();
  NatsClient before(url);
  ASSERT_TRUE(before.ok()) << before.error();
  ASSERT_TRUE(before.add_stream("T", {"t"})) << before.error();
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(before.js_publish("t", "m" + std::to_string(i))) << before.error();

  ASSERT_TRUE(nats.kill());
  EXPECT_FALSE(nats.running());
  ASSERT_TRUE(nats.restart()) << nats.error();
  EXPECT_EQ(nats.url(), url);

  // The old connection comes back by itself; a new one sees everything stored before the crash.
  EXPECT_TRUE(before.js_publish("t", "after the restart")) << before.error();
  NatsClient after(url);
  ASSERT_TRUE(after.ok()) << after.error();
  EXPECT_EQ(after.stream_messages("T"), 4u) << after.error() << "\n" << nats.log();
}

TEST(NatsServerHarness, says_why_when_the_server_does_not_come_up) {
  const char* before = std::getenv("IGNITE_NATS_SERVER");
  const std::optional<std::string> saved = before != nullptr ? std::optional<std::string>(before) : std::nullopt;
  ::setenv("IGNITE_NATS_SERVER", "/bin/false", 1);
  NatsServer broken(std::chrono::seconds(5));
  if (saved) ::setenv("IGNITE_NATS_SERVER", saved->c_str(), 1);
  else ::unsetenv("IGNITE_NATS_SERVER");
  EXPECT_FALSE(broken.ok());
  EXPECT_NE(broken.error().find("exited"), std::string::npos) << broken.error();
}

TEST(NatsClusterHarness, an_r3_stream_keeps_every_message_when_its_leader_dies) {
  REQUIRE_NATS_SERVER();
  NatsCluster cluster;
  ASSERT_TRUE(cluster.ok()) << cluster.error();
  ASSERT_EQ(cluster.size(), 3u);
  auto jsz = cluster.monitor(0, "/jsz");
  ASSERT_TRUE(jsz.is_object()) << jsz;
  EXPECT_EQ(jsz["meta_cluster"]["cluster_size"], 3) << jsz;
  EXPECT_FALSE(cluster.meta_leader().empty());

  NatsClient nc(cluster.urls());
  ASSERT_TRUE(nc.ok()) << nc.error();
  ASSERT_TRUE(nc.add_stream("R", {"r"}, 3)) << nc.error();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(nc.js_publish("r", "m" + std::to_string(i))) << nc.error();

  const std::size_t leader = cluster.index_of(nc.stream_leader("R"));
  ASSERT_LT(leader, cluster.size()) << "stream leader: " << nc.stream_leader("R");
  ASSERT_TRUE(cluster.kill(leader));
  ASSERT_TRUE(cluster.wait_ready()) << cluster.error();
  for (int i = 5; i < 10; ++i) ASSERT_TRUE(nc.js_publish("r", "m" + std::to_string(i))) << nc.error();
  EXPECT_EQ(nc.stream_messages("R"), 10u) << nc.error();
  EXPECT_NE(nc.stream_leader("R"), NatsCluster::server_name(leader));

  // Back on its ports with its store: it catches up and the cluster is whole again.
  ASSERT_TRUE(cluster.restart(leader)) << cluster.error() << "\n" << cluster.log(leader);
  EXPECT_EQ(cluster.monitor(leader, "/jsz")["meta_cluster"]["cluster_size"], 3);
  EXPECT_EQ(nc.stream_messages("R"), 10u) << nc.error();
}

// A child process with its stdout on a pipe, killed (SIGKILL) and reaped on destruction.
class Background {
 public:
  explicit Background(std::vector<std::string> argv_s) {
    std::vector<char*> argv;
    for (auto& a : argv_s) argv.push_back(a.data());
    argv.push_back(nullptr);
    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0) return;
    sys::Fd write_end(out[1]);
    out_ = sys::Fd(out[0]);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, write_end.get(), 1);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    pid_t pid = -1;
    const int rc = ::posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) return;
    process_.emplace(pid, sys::Fd(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0))));
  }

  // Reads stdout until `line` appears (true) or the timeout.
  bool wait_for(const std::string& line, std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (seen_.find(line) == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd p{out_.get(), POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
      char buf[4096];
      const ssize_t n = ::read(out_.get(), buf, sizeof buf);
      if (n <= 0) return false;
      seen_.append(buf, static_cast<std::size_t>(n));
    }
    return true;
  }
  const std::string& seen() const { return seen_; }

 private:
  sys::Fd out_;
  std::optional<sys::ChildProcess> process_;
  std::string seen_;
};

TEST(NatsIgnisClient, collects_every_status_until_the_final_one) {
  REQUIRE_NATS_SERVER();
  if (auto why = ignis_client_unavailable(); !why.empty()) GTEST_SKIP() << why;
  NatsServer nats;
  ASSERT_TRUE(nats.ok()) << nats.error();
  Background worker({node_binary(), (nats_client_dir() / "stand_in_worker.mjs").string(), "--servers", nats.url(),
                     "--kv", "results"});
  ASSERT_TRUE(worker.wait_for("ready", std::chrono::seconds(10))) << worker.seen();

  auto run = run_ignis_client(nats.url(), {"--count", "3", "--code", "print(1)", "--timeout-ms", "10000"});
  ASSERT_EQ(run.exit_code, 0) << run.err << run.report;
  ASSERT_EQ(run.report["jobs"].size(), 3u) << run.report;
  for (const auto& job : run.report["jobs"]) {
    EXPECT_EQ(job["statuses"], nlohmann::json::parse(R"(["received","running","done"])")) << job;
    EXPECT_EQ(job["finals"], 1) << job;
    for (const char* field : {"id", "status", "message", "error", "stdout", "stderr", "exec_duration", "mem_usage", "result"})
      EXPECT_TRUE(job["final"].contains(field)) << field << " missing in " << job;
    EXPECT_EQ(job["final"]["id"], job["id"]);
  }
  EXPECT_TRUE(run.report["missing"].empty());

  auto failed = run_ignis_client(nats.url(), {"--code", "fail"});
  ASSERT_EQ(failed.exit_code, 0) << failed.err << failed.report;
  EXPECT_EQ(failed.report["jobs"][0]["final"]["status"], "failed");

  auto twice = run_ignis_client(nats.url(), {"--code", "twice", "--linger-ms", "300"});
  ASSERT_EQ(twice.exit_code, 0) << twice.err << twice.report;
  EXPECT_EQ(twice.report["jobs"][0]["finals"], 2) << "a second final status must show";

  auto lost = run_ignis_client(nats.url(), {"--count", "2", "--code", "ignore", "--timeout-ms", "500", "--id-prefix", "lost"});
  EXPECT_EQ(lost.exit_code, 1) << lost.err << lost.report;
  EXPECT_EQ(lost.report["missing"], nlohmann::json::parse(R"(["lost-0","lost-1"])")) << lost.report;

  // A final status that only reached the results bucket (published while the client was away).
  auto stored = run_ignis_client(nats.url(), {"--code", "kv-only", "--results-kv", "results", "--timeout-ms", "10000"});
  ASSERT_EQ(stored.exit_code, 0) << stored.err << stored.report;
  EXPECT_EQ(stored.report["jobs"][0]["final"]["source"], "kv") << stored.report;
  EXPECT_EQ(stored.report["jobs"][0]["final"]["status"], "done") << stored.report;

  auto unreachable = run_ignis_client("nats://127.0.0.1:1", {});
  EXPECT_EQ(unreachable.exit_code, 2) << unreachable.err;
  EXPECT_TRUE(unreachable.report.contains("error")) << unreachable.report;
}

}  // namespace
}  // namespace ignite::testing
