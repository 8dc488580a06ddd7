// Sandboxes running at the same time share nothing: one plants marks in every place two
// processes on one host could meet, the other, started while the first is alive, looks.
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>

#include "sandbox_fixture.hpp"

namespace ignite::security {
namespace {

using namespace std::chrono_literals;

class BetweenRuns : public SandboxTest {
 protected:
  // Runs `plant` in one sandbox and, once it reports "planted", `second` in another, then
  // stops the first. Returns the second run's result.
  ExecutionResult while_another_run_plants(const SandboxSpec& second) {
    std::mutex m;
    std::condition_variable cv;
    bool planted = false;
    std::string plant_output;
    std::stop_source stop;
    std::jthread planter([&] {
      auto spec = probe({"plant", "30000"});
      spec.limits.wall_time = 20s;
      (void)try_run(spec, stop.get_token(), [&](sandbox::Stream, std::string_view chunk) {
        std::lock_guard lock(m);
        plant_output += chunk;
        if (contains(plant_output, "planted\n")) planted = true;
        cv.notify_all();
      });
      std::lock_guard lock(m);
      planted = true;  // also wakes the waiter if the planter failed
      cv.notify_all();
    });
    {
      std::unique_lock lock(m);
      cv.wait(lock, [&] { return planted; });
    }
    EXPECT_EQ(plant_output, "planted\n") << "the planting sandbox could not plant its marks";
    auto r = run(second);
    stop.request_stop();
    return r;
  }

  // look's report from a run next to a planting one: mark -> "seen" | "absent".
  std::map<std::string, std::string> look_while_another_run_plants() {
    auto r = while_another_run_plants(probe({"look"}));
    std::map<std::string, std::string> seen;
    for (const auto& line : lines(r.stdout_data)) {
      auto colon = line.find(": ");
      if (colon != std::string::npos) seen[line.substr(0, colon)] = line.substr(colon + 2);
    }
    return seen;
  }
};

INSTANTIATE_TEST_SUITE_P(, BetweenRuns, ::testing::ValuesIn(backend_cases()),
                         backend_name);

TEST_P(BetweenRuns, concurrent_runs_do_not_share_tmp) {
  EXPECT_EQ(look_while_another_run_plants()["tmp"], "absent");
}

TEST_P(BetweenRuns, concurrent_runs_do_not_share_dev_shm) {
  EXPECT_EQ(look_while_another_run_plants()["shm"], "absent");
}

TEST_P(BetweenRuns, concurrent_runs_do_not_share_abstract_unix_sockets) {
  EXPECT_EQ(look_while_another_run_plants()["abstract"], "absent");
}

TEST_P(BetweenRuns, concurrent_runs_do_not_share_sysv_shared_memory) {
  EXPECT_EQ(look_while_another_run_plants()["sysv-shm"], "absent");
}

TEST_P(BetweenRuns, concurrent_runs_do_not_share_sysv_message_queues) {
  EXPECT_EQ(look_while_another_run_plants()["sysv-msg"], "absent");
}

TEST_P(BetweenRuns, concurrent_runs_do_not_see_each_other_s_processes) {
  auto r = while_another_run_plants(probe({"ls", "/proc"}));
  int pids = 0;
  for (const auto& name : lines(r.stdout_data)) pids += std::isdigit(static_cast<unsigned char>(name[0])) ? 1 : 0;
  EXPECT_EQ(pids, 2) << r.stdout_data;
}

}  // namespace
}  // namespace ignite::security
