// `ignite worker` against real nats-server processes (JetStream, 127.0.0.1, random ports, temp
// stores): durable jobs, Ignis status updates, exactly-once completion across workers, worker
// and server crashes, a 3-node cluster losing a node, and a client nobody here wrote.
#include <gtest/gtest.h>

#include <cstdio>
#include <set>

#include "../common/cnats_client.hpp"
#include "../common/nats_servers.hpp"
#include "cli_helpers.hpp"
#include "server_helpers.hpp"
#include "worker_helpers.hpp"

namespace ignite::testing {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

#define REQUIRE_NATS()                                                       \
  REQUIRE_SANDBOX();                                                         \
  if (auto why = nats_server_unavailable(); !why.empty()) GTEST_SKIP() << why

// Small pools: several workers share two cores in these tests.
const std::vector<std::string> kWorkerArgs = {"--concurrency", "2", "--pool", "python=1..2", "--metrics-port", "0"};

std::vector<std::string> args_with(std::vector<std::string> more) {
  std::vector<std::string> out = kWorkerArgs;
  out.insert(out.end(), more.begin(), more.end());
  return out;
}

std::string metrics_of(const WorkerProcess& w) { return http_request(w.metrics_port(), "GET", "/metrics", "", {}).body; }

// A well-formed final status of another job: the worker must not answer `id` with it.
std::string ignis_like(const std::string& other_id) {
  return json{{"id", other_id}, {"status", "done"}, {"message", ""}, {"error", ""}, {"stdout", "NOT YOURS"},
              {"stderr", ""}, {"exec_duration", 1}, {"mem_usage", 1}, {"result", json::object()}}.dump();
}

std::vector<std::string> ids(const std::string& prefix, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(prefix + std::to_string(i));
  return out;
}

// Every id has a final status stored in the results bucket, within `timeout`.
bool all_stored(jsCtx* js, const std::vector<std::string>& list, std::chrono::milliseconds timeout,
                std::vector<std::string>* missing = nullptr) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  std::set<std::string> left(list.begin(), list.end());
  while (!left.empty() && std::chrono::steady_clock::now() < deadline) {
    for (auto it = left.begin(); it != left.end();) {
      const json s = stored_status(js, *it);
      const bool final = s.is_object() && (s.value("status", "") == "done" || s.value("status", "") == "failed");
      it = final ? left.erase(it) : std::next(it);
    }
    if (!left.empty()) std::this_thread::sleep_for(200ms);
  }
  if (missing) missing->assign(left.begin(), left.end());
  return left.empty();
}

// One nats-server, one worker started with `args`, a client, and every status update it hears:
// the setup most tests share. `error` says what did not start.
struct OneWorker {
  explicit OneWorker(const std::vector<std::string>& args = kWorkerArgs) {
    if (!nats.ok()) {
      error = nats.error();
      return;
    }
    worker.emplace(nats.url(), args);
    if (!worker->ready()) {
      error = "the worker did not start: " + worker->log();
      return;
    }
    client.emplace(nats.url());
    if (!client->ok()) {
      error = client->error();
      return;
    }
    statuses.emplace(client->connection());
  }
  NatsServer nats;
  std::optional<WorkerProcess> worker;
  std::optional<NatsClient> client;
  std::optional<StatusCollector> statuses;
  std::string error;
};

TEST(WorkerNats, a_job_published_before_any_worker_runs_is_run_once_a_worker_starts) {
  REQUIRE_NATS();
  NatsServer nats;
  ASSERT_TRUE(nats.ok()) << nats.error();
  // The stream exists (a worker ran before, or the deployment set it up); no worker runs now.
  const auto setup = run_cli({"worker", "--nats", nats.url(), "--setup-only"});
  ASSERT_EQ(setup.exit_code, 0) << setup.err;
  NatsClient client(nats.url());
  ASSERT_TRUE(client.ok()) << client.error();
  StatusCollector statuses(client.connection());
  ASSERT_TRUE(client.publish("jobs", job("early-1", "print('ran late')")));
  std::this_thread::sleep_for(500ms);
  EXPECT_TRUE(statuses.updates("early-1").empty()) << "nobody should have answered yet";

  WorkerProcess worker(nats.url(), kWorkerArgs);
  ASSERT_TRUE(worker.ready()) << worker.log();
  ASSERT_TRUE(statuses.wait_final({"early-1"}, 60s)) << worker.log();
  const auto finals = statuses.finals("early-1");
  ASSERT_EQ(finals.size(), 1u);
  EXPECT_EQ(finals[0]["status"], "done") << finals[0].dump();
  EXPECT_EQ(finals[0]["stdout"], "ran late\n");
}

TEST(WorkerNats, status_updates_arrive_in_order_with_the_ignis_field_names) {
  REQUIRE_NATS();
  OneWorker env;
  ASSERT_EQ(env.error, "");
  ASSERT_TRUE(env.client->publish("jobs", job("order-ok", "import sys; print('out'); print('err', file=sys.stderr)")));
  ASSERT_TRUE(env.client->publish("jobs", job("order-exit", "raise SystemExit(3)")));
  ASSERT_TRUE(env.client->publish("jobs", job("order-js", "console.log(6 * 7)", "javascript")));
  ASSERT_TRUE(env.statuses->wait_final({"order-ok", "order-exit", "order-js"}, 90s)) << env.worker->log();

  for (const char* id : {"order-ok", "order-exit", "order-js"}) {
    std::vector<std::string> sequence;
    for (const auto& u : env.statuses->updates(id)) {
      sequence.push_back(u.value("status", "?"));
      for (const char* field : {"id", "status", "message", "error", "stdout", "stderr", "exec_duration", "mem_usage"})
        EXPECT_TRUE(u.contains(field)) << id << " update lacks " << field << ": " << u.dump();
      EXPECT_EQ(u["id"], id);
    }
    ASSERT_EQ(sequence.size(), 3u) << id;
    EXPECT_EQ(sequence[0], "received") << id;
    EXPECT_EQ(sequence[1], "running") << id;
  }
  const json ok = env.statuses->finals("order-ok").at(0);
  EXPECT_EQ(ok["status"], "done");
  EXPECT_EQ(ok["stdout"], "out\n");
  EXPECT_EQ(ok["stderr"], "err\n");
  EXPECT_GT(ok["exec_duration"].get<double>(), 0.0);
  EXPECT_GT(ok["mem_usage"].get<double>(), 100.0) << "KiB of the whole sandbox's peak";
  EXPECT_EQ(ok["result"]["status"], "ok") << "the full result document rides along";
  EXPECT_EQ(ok["result"]["runtime"].get<std::string>().rfind("python@", 0), 0u);

  const json exit3 = env.statuses->finals("order-exit").at(0);
  EXPECT_EQ(exit3["status"], "failed");
  EXPECT_NE(exit3["error"].get<std::string>().find("exited with code 3"), std::string::npos) << exit3.dump();
  EXPECT_EQ(exit3["result"]["exitCode"], 3);
  EXPECT_EQ(env.statuses->finals("order-js").at(0)["stdout"], "42\n");

  // A late subscriber fetches the same final status from the results bucket.
  EXPECT_EQ(stored_status(env.client->jetstream(), "order-ok"), ok);
}

TEST(WorkerNats, malformed_jobs_fail_clearly_are_counted_and_never_redelivered) {
  REQUIRE_NATS();
  OneWorker env(args_with({"--max-code-bytes", "1000"}));
  ASSERT_EQ(env.error, "");
  // Without a usable id: nobody to tell; dead-lettered.
  ASSERT_TRUE(env.client->publish("jobs", "this is not json"));
  ASSERT_TRUE(env.client->publish("jobs", R"J({"language":"python","code":"print(1)"})J"));
  ASSERT_TRUE(env.client->publish("jobs", R"J({"id":"a.b.>","language":"python","code":"print(1)"})J"));
  ASSERT_TRUE(env.client->publish("jobs", std::string(100000, '[') + std::string(100000, ']')));  // deeper than any parser's stack
  // With an id: a failed status that says what is wrong.
  ASSERT_TRUE(env.client->publish("jobs", job("bad-lang", "x", "cobol")));
  ASSERT_TRUE(env.client->publish("jobs", job("too-big", "print('" + std::string(2000, 'x') + "')")));
  ASSERT_TRUE(env.client->publish("jobs", R"J({"id":"bad-field","language":"python","code":"print(1)","timeoutMs":"soon"})J"));
  ASSERT_TRUE(env.statuses->wait_final({"bad-lang", "too-big", "bad-field"}, 30s)) << env.worker->log();

  const json lang = env.statuses->finals("bad-lang").at(0);
  EXPECT_EQ(lang["status"], "failed");
  EXPECT_NE(lang["error"].get<std::string>().find("cobol"), std::string::npos) << lang.dump();
  EXPECT_NE(env.statuses->finals("too-big").at(0)["error"].get<std::string>().find("larger than 1000 bytes"),
            std::string::npos);
  EXPECT_NE(env.statuses->finals("bad-field").at(0)["error"].get<std::string>().find("timeoutMs"), std::string::npos);

  std::string text;
  for (int i = 0; i < 50 && metric(text, "ignite_worker_jobs_total{event=\"malformed\"}") < 7; ++i) {
    std::this_thread::sleep_for(100ms);
    text = metrics_of(*env.worker);
  }
  EXPECT_EQ(metric(text, "ignite_worker_jobs_total{event=\"malformed\"}"), 7) << text;
  EXPECT_EQ(metric(text, "ignite_worker_jobs_total{event=\"dead_lettered\"}"), 4) << text;
  EXPECT_EQ(env.client->stream_messages("IGNITE_JOBS_DEAD").value_or(0), 4u);
  EXPECT_EQ(env.client->stream_max_bytes("IGNITE_JOBS_DEAD").value_or(-1), 256ll << 20)
      << "junk cannot fill the disk through the dead letters";
  // All acked: nothing waits in the work queue, nothing comes back.
  std::this_thread::sleep_for(1500ms);
  EXPECT_EQ(env.client->stream_messages("IGNITE_JOBS").value_or(99), 0u);
  EXPECT_EQ(metric(metrics_of(*env.worker), "ignite_worker_jobs_total{event=\"redelivered\"}"), 0);
}

TEST(WorkerNats, a_job_printing_more_than_a_nats_message_holds_still_finishes) {
  REQUIRE_NATS();
  OneWorker env;
  ASSERT_EQ(env.error, "");
  ASSERT_TRUE(env.client->publish("jobs", job("loud-1", "print('x' * 900000)")));
  ASSERT_TRUE(env.statuses->wait_final({"loud-1"}, 60s)) << env.worker->log();
  const json final = env.statuses->finals("loud-1").at(0);
  EXPECT_EQ(final["status"], "done") << final.dump().substr(0, 500);
  EXPECT_LT(final.dump().size(), 1u << 20);
  EXPECT_GT(final["stdout"].get<std::string>().size(), 100000u);
  EXPECT_TRUE(final["result"]["stdoutTruncated"].get<bool>());
  EXPECT_NE(final["message"].get<std::string>().find("cut to fit"), std::string::npos);
}

TEST(WorkerNats, five_hundred_jobs_over_three_workers_complete_exactly_once) {
  REQUIRE_NATS();
  NatsServer nats;
  ASSERT_TRUE(nats.ok()) << nats.error();
  std::vector<std::unique_ptr<WorkerProcess>> workers;
  for (int i = 0; i < 3; ++i) {
    workers.push_back(std::make_unique<WorkerProcess>(nats.url(), kWorkerArgs));
    ASSERT_TRUE(workers.back()->ready()) << workers.back()->log();
  }
  NatsClient client(nats.url());
  ASSERT_TRUE(client.ok()) << client.error();
  StatusCollector statuses(client.connection());
  const auto all = ids("many-", suite_volume(500, 30));
  // Random output: two runs of one id would publish two different finals.
  for (const auto& id : all) ASSERT_TRUE(client.publish("jobs", job(id, "import os; print(os.urandom(8).hex())")));
  ASSERT_TRUE(statuses.wait_final(all, 300s)) << workers[0]->log();

  for (const auto& id : all) {
    const auto finals = statuses.finals(id);
    ASSERT_FALSE(finals.empty()) << id;
    for (const auto& f : finals) EXPECT_EQ(f, finals[0]) << id << ": a republished result must be identical";
    EXPECT_EQ(finals[0]["status"], "done") << finals[0].dump();
  }
  long done = 0;
  for (auto& w : workers) {
    const long d = metric(metrics_of(*w), "ignite_worker_jobs_total{event=\"done\"}");
    EXPECT_GT(d, 0) << "every worker takes a share";
    done += d;
  }
  EXPECT_EQ(done, static_cast<long>(all.size())) << "each job ran to completion exactly once";
}

TEST(WorkerNats, copies_of_one_id_published_at_once_publish_one_final_result) {
  REQUIRE_NATS();
  NatsServer nats;
  ASSERT_TRUE(nats.ok()) << nats.error();
  std::vector<std::unique_ptr<WorkerProcess>> workers;
  for (int i = 0; i < 2; ++i) {
    workers.push_back(std::make_unique<WorkerProcess>(nats.url(), kWorkerArgs));
    ASSERT_TRUE(workers.back()->ready()) << workers.back()->log();
  }
  NatsClient client(nats.url());
  ASSERT_TRUE(client.ok()) << client.error();
  StatusCollector statuses(client.connection());
  const auto all = ids("dup-", suite_volume(40, 10));
  // Four copies of each id, no Nats-Msg-Id: they run concurrently on both workers.
  for (const auto& id : all)
    for (int copy = 0; copy < 4; ++copy)
      ASSERT_TRUE(client.publish("jobs", job(id, "import random, time; time.sleep(random.random() / 50); print(random.random())")));
  ASSERT_TRUE(statuses.wait_final(all, 120s)) << workers[0]->log();
  std::this_thread::sleep_for(2s);  // every copy has answered
  for (const auto& id : all) {
    const auto finals = statuses.finals(id);
    for (const auto& f : finals) EXPECT_EQ(f["stdout"], finals.at(0)["stdout"]) << id << ": two different results";
    EXPECT_EQ(stored_status(client.jetstream(), id)["stdout"], finals.at(0)["stdout"]) << id;
  }
}

TEST(WorkerNats, a_result_forged_in_the_bucket_is_not_taken_for_the_jobs_own) {
  REQUIRE_NATS();
  OneWorker env;
  ASSERT_EQ(env.error, "");
  kvStore* kv = nullptr;
  ASSERT_EQ(js_KeyValue(&kv, env.client->jetstream(), "ignite_results"), NATS_OK);
  std::uint64_t rev = 0;
  const std::string forged = R"J({"status":"done","stdout":"FORGED"})J";
  const std::string other = ignis_like("someone-else");
  ASSERT_EQ(kvStore_PutString(&rev, kv, "forged-1", forged.c_str()), NATS_OK);
  ASSERT_EQ(kvStore_PutString(&rev, kv, "forged-2", other.c_str()), NATS_OK);
  ASSERT_EQ(kvStore_PutString(&rev, kv, "forged-3", "not json at all"), NATS_OK);
  kvStore_Destroy(kv);
  for (const char* id : {"forged-1", "forged-2", "forged-3"})
    ASSERT_TRUE(env.client->publish("jobs", job(id, "print('real')")));
  ASSERT_TRUE(env.statuses->wait_final({"forged-1", "forged-2", "forged-3"}, 60s)) << env.worker->log();
  for (const char* id : {"forged-1", "forged-2", "forged-3"}) {
    EXPECT_EQ(env.statuses->finals(id).at(0)["stdout"], "real\n") << id;
    EXPECT_EQ(stored_status(env.client->jetstream(), id)["stdout"], "real\n") << id;
  }
}

TEST(WorkerNats, service_requests_beyond_the_queue_bound_are_refused_and_sigterm_does_not_wait_for_them) {
  REQUIRE_NATS();
  NatsServer nats;
  ASSERT_TRUE(nats.ok()) << nats.error();
  TempTree services("ignite-nats-services-");
  services.write("slow/service.yaml", "service:\n  name: slow\n  runtime: python\n  entry: main.py\n");
  services.write("slow/main.py", "import time\ntime.sleep(2)\nprint('slept')\n");
  WorkerProcess worker(nats.url(), args_with({"--services", services.path().string(), "--max-service-queue", "3"}));
  ASSERT_TRUE(worker.ready()) << worker.log();
  NatsClient client(nats.url());
  ASSERT_TRUE(client.ok()) << client.error();
  // 20 requests at once; 3 may be queued or running, the rest are told so at once.
  std::mutex mu;
  std::vector<json> answers;
  std::vector<std::thread> callers;
  for (int i = 0; i < 20; ++i) {
    callers.emplace_back([&] {
      natsMsg* reply = nullptr;
      const natsStatus s = natsConnection_RequestString(&reply, client.connection(), "ignite.execute.slow", "{}", 30000);
      std::lock_guard lock(mu);
      if (s != NATS_OK) {
        answers.push_back({{"natsError", natsStatus_GetText(s)}});
        return;
      }
      answers.push_back(json::parse(std::string(natsMsg_GetData(reply), static_cast<std::size_t>(natsMsg_GetDataLength(reply)))));
      natsMsg_Destroy(reply);
    });
  }
  for (auto& t : callers) t.join();
  int ran = 0, refused = 0;
  for (const auto& a : answers) {
    if (a.value("stdout", "") == "slept\n") ++ran;
    else if (a.contains("error") && a["error"]["code"] == "queue_full") ++refused;
    else ADD_FAILURE() << a.dump();
  }
  EXPECT_LE(ran, 3 + 2) << "at most the bound (plus ones that finished meanwhile)";
  EXPECT_GE(refused, 10);

  // A backlog at SIGTERM: queued requests are answered "draining", the worker exits promptly.
  for (int i = 0; i < 3; ++i)
    ASSERT_EQ(natsConnection_PublishRequestString(client.connection(), "ignite.execute.slow", "_INBOX.nobody", "{}"), NATS_OK);
  natsConnection_Flush(client.connection());
  std::this_thread::sleep_for(300ms);
  const auto t0 = std::chrono::steady_clock::now();
  worker.signal(SIGTERM);
  ASSERT_TRUE(worker.wait_exit(20s).has_value()) << worker.log();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 10s);
}

TEST(WorkerNats, a_job_waiting_behind_service_requests_keeps_its_deliveries) {
  REQUIRE_NATS();
  NatsServer nats;
  ASSERT_TRUE(nats.ok()) << nats.error();
  TempTree services("ignite-nats-services-");
  services.write("hog/service.yaml", "service:\n  name: hog\n  runtime: python\n  entry: main.py\n");
  services.write("hog/main.py", "import time\ntime.sleep(3)\nprint('done')\n");
  WorkerProcess worker(nats.url(), {"--concurrency", "1", "--pool", "none", "--metrics-port", "0", "--services",
                                    services.path().string(), "--queue-timeout-ms", "500"});
  ASSERT_TRUE(worker.ready()) << worker.log();
  NatsClient client(nats.url());
  ASSERT_TRUE(client.ok()) << client.error();
  StatusCollector statuses(client.connection());
  // The one slot is the service's for 3 s, far beyond the queue timeout; the job waits it out.
  ASSERT_EQ(natsConnection_PublishRequestString(client.connection(), "ignite.execute.hog", "_INBOX.nobody", "{}"), NATS_OK);
  std::this_thread::sleep_for(300ms);
  ASSERT_TRUE(client.publish("jobs", job("patient-1", "print('ran')")));
  ASSERT_TRUE(statuses.wait_final({"patient-1"}, 60s)) << worker.log();
  EXPECT_EQ(statuses.finals("patient-1").at(0)["stdout"], "ran\n");
  const std::string text = metrics_of(worker);
  EXPECT_EQ(metric(text, "ignite_worker_jobs_total{event=\"requeued\"}"), 0) << text;
  EXPECT_EQ(metric(text, "ignite_worker_jobs_total{event=\"redelivered\"}"), 0) << text;
}

TEST(WorkerNats, a_worker_killed_mid_job_has_its_job_redelivered_and_completed_by_another) {
  REQUIRE_NATS();
  NatsServer nats;
  ASSERT_TRUE(nats.ok()) << nats.error();
  NatsClient client(nats.url());
  ASSERT_TRUE(client.ok()) << client.error();
  StatusCollector statuses(client.connection());
  auto first = std::make_unique<WorkerProcess>(nats.url(), args_with({"--ack-wait-s", "2"}));
  ASSERT_TRUE(first->ready()) << first->log();
  ASSERT_TRUE(client.publish("jobs", job("crash-1", "import time; time.sleep(3); print('survived')")));
  for (int i = 0; i < 200 && statuses.updates("crash-1").size() < 2; ++i) std::this_thread::sleep_for(50ms);
  ASSERT_EQ(statuses.updates("crash-1").size(), 2u) << "received and running, from the first worker";
  first->signal(SIGKILL);
  ASSERT_TRUE(first->wait_exit(10s));

  WorkerProcess second(nats.url(), args_with({"--ack-wait-s", "2"}));
  ASSERT_TRUE(second.ready()) << second.log();
  ASSERT_TRUE(statuses.wait_final({"crash-1"}, 60s)) << second.log();
  const json final = statuses.finals("crash-1").at(0);
  EXPECT_EQ(final["status"], "done") << final.dump();
  EXPECT_EQ(final["stdout"], "survived\n");
  EXPECT_GE(metric(metrics_of(second), "ignite_worker_jobs_total{event=\"redelivered\"}"), 1);
}

TEST(WorkerNats, a_nats_server_restart_loses_no_job) {
  REQUIRE_NATS();
  NatsServer nats;
  ASSERT_TRUE(nats.ok()) << nats.error();
  WorkerProcess worker(nats.url(), kWorkerArgs);
  ASSERT_TRUE(worker.ready()) << worker.log();
  const auto all = ids("restart-", 40);
  {
    NatsClient client(nats.url());
    ASSERT_TRUE(client.ok()) << client.error();
    StatusCollector statuses(client.connection());
    for (const auto& id : all) ASSERT_TRUE(client.publish("jobs", job(id, "import time; time.sleep(0.1); print('x')")));
    // Some are done, most are not, when the server goes away.
    for (int i = 0; i < 300; ++i) {
      int finished = 0;
      for (const auto& id : all) finished += statuses.finals(id).empty() ? 0 : 1;
      if (finished >= 5) break;
      std::this_thread::sleep_for(50ms);
    }
  }
  ASSERT_TRUE(nats.restart()) << nats.error();
  NatsClient after(nats.url());
  ASSERT_TRUE(after.ok()) << after.error();
  std::vector<std::string> missing;
  EXPECT_TRUE(all_stored(after.jetstream(), all, 120s, &missing))
      << missing.size() << " jobs without a final status, e.g. " << (missing.empty() ? "" : missing[0]) << "\n"
      << worker.log();
}

TEST(WorkerNats, a_three_node_cluster_losing_a_node_completes_every_job_exactly_once) {
  REQUIRE_NATS();
  NatsCluster cluster;
  ASSERT_TRUE(cluster.ok()) << cluster.error();
  std::vector<std::unique_ptr<WorkerProcess>> workers;
  for (int i = 0; i < 2; ++i) {
    workers.push_back(std::make_unique<WorkerProcess>(cluster.urls(), args_with({"--replicas", "3"})));
    ASSERT_TRUE(workers.back()->ready()) << workers.back()->log();
  }
  const auto all = ids("cluster-", suite_volume(200, 40));
  {
    NatsClient client(cluster.urls());
    ASSERT_TRUE(client.ok()) << client.error();
    for (const auto& id : all) ASSERT_TRUE(client.js_publish("jobs", job(id, "print('c')"))) << client.error();
    // Kill the stream's leader while jobs are running.
    std::vector<std::string> missing;
    all_stored(client.jetstream(), {all[20]}, 60s);
    const std::string leader = client.stream_leader("IGNITE_JOBS");
    ASSERT_FALSE(leader.empty());
    ASSERT_TRUE(cluster.kill(cluster.index_of(leader)));
  }
  NatsClient after(cluster.urls());
  ASSERT_TRUE(after.ok()) << after.error();
  std::vector<std::string> missing;
  EXPECT_TRUE(all_stored(after.jetstream(), all, 240s, &missing))
      << missing.size() << " jobs without a final status\n" << workers[0]->log();
  long done = 0, republished = 0;
  for (auto& w : workers) {
    const std::string text = metrics_of(*w);
    done += metric(text, "ignite_worker_jobs_total{event=\"done\"}");
    republished += metric(text, "ignite_worker_jobs_total{event=\"republished\"}");
  }
  EXPECT_EQ(done, static_cast<long>(all.size())) << "each job completed once (" << republished << " answered again from the store)";
}

// A worker started while its cluster cannot create streams (here: two of three nodes down, so no
// JetStream meta leader) waits for it, as it waits for a server that is not up yet; once the
// nodes are back it starts and runs jobs. CI once saw the first worker's stream creation time
// out on a loaded host, and the worker exit.
TEST(WorkerNats, a_worker_started_before_its_cluster_has_a_quorum_waits_for_one) {
  REQUIRE_NATS();
  NatsCluster cluster;
  ASSERT_TRUE(cluster.ok()) << cluster.error();
  ASSERT_TRUE(cluster.kill(1));
  ASSERT_TRUE(cluster.kill(2));
  WorkerProcess worker(cluster.urls(), args_with({"--replicas", "3"}), 8s);
  EXPECT_FALSE(worker.ready()) << worker.log();
  ASSERT_FALSE(worker.wait_exit(0ms).has_value()) << "the worker gave up instead of waiting:\n" << worker.log();
  EXPECT_NE(worker.log().find("retrying"), std::string::npos) << worker.log();
  // Both come back at once; the worker, not the test, waits for the cluster to be usable.
  ASSERT_TRUE(cluster.start_again(1)) << cluster.error();
  ASSERT_TRUE(cluster.start_again(2)) << cluster.error();
  ASSERT_TRUE(worker.wait_ready(90s)) << worker.log();
  NatsClient client(cluster.urls());
  ASSERT_TRUE(client.ok()) << client.error();
  ASSERT_TRUE(client.js_publish("jobs", job("quorum-1", "print('q')"))) << client.error();
  ASSERT_TRUE(all_stored(client.jetstream(), {"quorum-1"}, 60s)) << worker.log();
  const json stored = stored_status(client.jetstream(), "quorum-1");
  EXPECT_EQ(stored.value("status", ""), "done") << stored.dump();
}

TEST(WorkerNats, service_requests_on_ignite_execute_are_answered_by_one_worker) {
  REQUIRE_NATS();
  NatsServer nats;
  ASSERT_TRUE(nats.ok()) << nats.error();
  TempTree services("ignite-nats-services-");
  services.write("doubler/service.yaml", "service:\n  name: doubler\n  runtime: python\n  entry: main.py\n");
  services.write("doubler/main.py", "import json, os\nprint(json.loads(os.environ['IGNITE_INPUT'])['n'] * 2)\n");
  WorkerProcess worker(nats.url(), args_with({"--services", services.path().string()}));
  ASSERT_TRUE(worker.ready()) << worker.log();
  NatsClient client(nats.url());
  ASSERT_TRUE(client.ok()) << client.error();
  auto request = [&](const std::string& subject, const std::string& body) {
    natsMsg* reply = nullptr;
    const natsStatus s = natsConnection_RequestString(&reply, client.connection(), subject.c_str(), body.c_str(), 60000);
    if (s != NATS_OK) return json{{"natsError", natsStatus_GetText(s)}};
    json out = json::parse(std::string(natsMsg_GetData(reply), static_cast<std::size_t>(natsMsg_GetDataLength(reply))));
    natsMsg_Destroy(reply);
    return out;
  };
  const json ok = request("ignite.execute.doubler", R"J({"input":{"n":21}})J");
  EXPECT_EQ(ok.value("status", ""), "ok") << ok.dump();
  EXPECT_EQ(ok.value("stdout", ""), "42\n");
  const json unknown = request("ignite.execute.nosuch", R"J({"input":1})J");
  EXPECT_EQ(unknown["error"]["code"], "not_found") << unknown.dump();
  const json bad = request("ignite.execute.doubler", "{not json");
  EXPECT_EQ(bad["error"]["code"], "bad_request") << bad.dump();
}

TEST(WorkerNats, sigterm_finishes_the_running_job_then_exits) {
  REQUIRE_NATS();
  OneWorker env;
  ASSERT_EQ(env.error, "");
  ASSERT_TRUE(env.client->publish("jobs", job("drain-1", "import time; time.sleep(1.5); print('finished')")));
  for (int i = 0; i < 200 && env.statuses->updates("drain-1").size() < 2; ++i) std::this_thread::sleep_for(50ms);
  env.worker->signal(SIGTERM);
  const auto code = env.worker->wait_exit(30s);
  ASSERT_TRUE(code.has_value()) << env.worker->log();
  EXPECT_EQ(*code, 0) << env.worker->log();
  ASSERT_TRUE(env.statuses->wait_final({"drain-1"}, 5s));
  EXPECT_EQ(env.statuses->finals("drain-1").at(0)["stdout"], "finished\n");
}

TEST(WorkerNats, serve_with_nats_queues_http_jobs_for_the_workers_and_reads_their_status) {
  REQUIRE_NATS();
  NatsServer nats;
  ASSERT_TRUE(nats.ok()) << nats.error();
  ServerProcess front({{"--nats", nats.url(), "--pool", "none"}, {"IGNITE_API_KEY=key-a,key-b"}});
  ASSERT_TRUE(front.started()) << front.stderr_text();
  const Headers as_a = {{"Authorization", "Bearer key-a"}};
  // Queued while no worker runs: the HTTP front end runs nothing itself.
  auto posted = front.post("/v1/jobs", R"J({"runtime":"python","code":"import sys; print(sys.stdin.read() * 2)","stdin":"ab","idempotencyKey":"k1"})J", as_a);
  ASSERT_EQ(posted.status, 202) << posted.body;
  const std::string id = json::parse(posted.body)["id"];
  EXPECT_EQ(json::parse(front.get("/v1/jobs/" + id, as_a).body)["status"], "queued");
  auto again = front.post("/v1/jobs", R"J({"runtime":"python","code":"print(1)","idempotencyKey":"k1"})J", as_a);
  EXPECT_EQ(json::parse(again.body)["id"], id) << "the same idempotency key names the same job";

  WorkerProcess worker(nats.url(), kWorkerArgs);
  ASSERT_TRUE(worker.ready()) << worker.log();
  json body;
  for (int i = 0; i < 300; ++i) {
    body = json::parse(front.get("/v1/jobs/" + id, as_a).body);
    if (body["status"] == "done" || body["status"] == "failed") break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(body["status"], "done") << body.dump();
  EXPECT_EQ(body["result"]["stdout"], "abab\n");
  EXPECT_EQ(front.get("/v1/jobs/" + id, {{"Authorization", "Bearer key-b"}}).status, 404)
      << "another key's job reads as unknown";
}

TEST(WorkerNats, a_worker_reaches_a_tls_server_only_when_it_can_verify_it) {
  REQUIRE_NATS();
  if (::access("/usr/bin/openssl", X_OK) != 0) GTEST_SKIP() << "openssl is not installed (scripts/install-deps installs it)";
  TempTree certs("ignite-nats-tls-");
  const std::string dir = certs.path().string();
  certs.write("san.ext", "subjectAltName=IP:127.0.0.1\n");
  const auto made = run_program(
      {"/bin/sh", "-c",
       "cd '" + dir + "' && openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 1 -subj /CN=test-ca && "
       "openssl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=127.0.0.1 && "
       "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 1 -extfile san.ext"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  NatsServer nats(15s, "tls {\n  cert_file: \"" + dir + "/server.pem\"\n  key_file: \"" + dir + "/server.key\"\n}\n");
  ASSERT_TRUE(nats.ok()) << nats.error();

  const auto verified = run_cli({"worker", "--nats", nats.url(), "--tls", "--tls-ca", dir + "/ca.pem", "--setup-only"});
  EXPECT_EQ(verified.exit_code, 0) << verified.err;
  const auto plain = run_cli({"worker", "--nats", nats.url(), "--setup-only"});
  EXPECT_NE(plain.exit_code, 0) << "a TLS-only server needs --tls";
  EXPECT_NE(plain.err.find("connect to NATS"), std::string::npos) << plain.err;
  const auto unverified = run_cli({"worker", "--nats", nats.url(), "--tls", "--setup-only"});
  EXPECT_NE(unverified.exit_code, 0) << "a certificate no trusted CA signed is refused";
}

TEST(WorkerNats, an_npm_nats_client_submits_ignis_jobs_and_receives_the_results) {
  REQUIRE_NATS();
  const std::string client_dir = std::string(IGNITE_SOURCE_DIR) + "/tests/nats_client";
  if (!std::filesystem::exists(client_dir + "/node_modules/nats"))
    GTEST_SKIP() << "the npm nats package is not installed in " << client_dir << " (scripts/install-deps installs it)";
  NatsServer nats;
  ASSERT_TRUE(nats.ok()) << nats.error();
  WorkerProcess worker(nats.url(), kWorkerArgs);
  ASSERT_TRUE(worker.ready()) << worker.log();
  const std::string command = "cd '" + client_dir + "' && node ignis_client.mjs --servers " + nats.url() +
                              " --count 20 --code 'print(6*7)' --timeout-ms 60000 --linger-ms 300";
  FILE* p = ::popen(command.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  const int status = ::pclose(p);
  ASSERT_EQ(WEXITSTATUS(status), 0) << out << worker.log();
  const json doc = json::parse(out);
  ASSERT_EQ(doc["jobs"].size(), 20u);
  for (const auto& j : doc["jobs"]) {
    EXPECT_EQ(j["statuses"], json({"received", "running", "done"})) << j.dump();
    EXPECT_EQ(j["finals"], 1);
    EXPECT_EQ(j["final"]["stdout"], "42\n");
  }
}

}  // namespace
}  // namespace ignite::testing
