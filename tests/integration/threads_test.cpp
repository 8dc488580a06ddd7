// Sandboxes created from a process whose other threads come and go (issue 10, item 5).
//
// The clone child runs between clone and execve in a copy of a multi-threaded process. If it
// called into glibc where glibc waits for its other threads (set*id broadcasts, fork handlers,
// malloc locks held by a thread mid-creation), a thread being created at clone time would hang
// it. The child uses raw syscalls only; this checks that the promise holds under churn: one
// thread creates and joins threads without pause while sandboxes are started concurrently
// from two others (the egress proxy, pools and client libraries all create threads).
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "native_fixture.hpp"

namespace ignite::testing {
namespace {

using namespace std::chrono_literals;

TEST_F(NativeTest, sandboxes_start_while_other_threads_are_created_and_destroyed) {
  std::atomic<bool> stop{false};
  std::atomic<long> churned{0};
  std::thread churn([&] {
    while (!stop) {
      std::vector<std::thread> batch;
      for (int i = 0; i < 8; ++i) batch.emplace_back([] { std::this_thread::yield(); });
      for (auto& t : batch) t.join();
      churned += 8;
    }
  });
  const auto started = std::chrono::steady_clock::now();
  std::atomic<int> done{0}, failed{0};
  auto runner = [&] {
    for (int i = 0; i < 40; ++i) {
      auto spec = probe_spec({"exit", "0"});
      spec.limits.wall_time = 5s;
      auto r = run(spec);
      if (r && r->outcome == Outcome::exited && r->exit_code == 0) {
        ++done;
      } else {
        ++failed;
        ADD_FAILURE() << (r ? r->detail : r.error().message);
      }
    }
  };
  std::thread a(runner), b(runner);
  a.join();
  b.join();
  stop = true;
  churn.join();
  EXPECT_EQ(done, 80);
  EXPECT_EQ(failed, 0);
  EXPECT_GT(churned, 80) << "the churn thread must really have been creating threads meanwhile";
  // A hang would show as each run's 10 s setup timeout; 80 runs take a few seconds.
  EXPECT_LT(std::chrono::steady_clock::now() - started, 60s);
}

}  // namespace
}  // namespace ignite::testing
