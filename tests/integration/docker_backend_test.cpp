// The docker backend on a real dockerd (the test command starts one; dockerd.hpp otherwise):
// what a run gets and reports, its limits, warm slots, and that nothing is left behind.
#include <gtest/gtest.h>

#include <iostream>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "../common/docker_backend.hpp"
#include "../common/python_service.hpp"
#include "config/service_config.hpp"
#include "engine/engine.hpp"
#include "runtime/catalog.hpp"
#include "engine/warm_split.hpp"
#include "sandbox/docker/container_config.hpp"
#include "sys/files.hpp"

namespace ignite {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class DockerBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "the docker backend needs root (a cgroup parent and uids of its own)";
    scratch_ = fs::temp_directory_path() / ("ignite-dock-test-" + std::to_string(::getpid()));
    work_ = scratch_.string() + "-work";
    fs::create_directories(work_);
    fs::permissions(work_, fs::perms::owner_all | fs::perms::group_exec | fs::perms::others_exec);
    auto b = testing::make_test_docker_backend(scratch_);
    if (!b) GTEST_SKIP() << "docker backend unavailable: " << b.error().message;
    backend_ = std::move(*b);
  }
  void TearDown() override {
    backend_.reset();
    std::error_code ec;
    fs::remove_all(work_, ec);
    fs::remove_all(scratch_, ec);
  }

  SandboxSpec python(const std::string& code, unsigned memory_mb = 64, unsigned timeout_ms = 10000) {
    return testing::python_service_spec(work_ / ("svc-" + std::to_string(counter_++)), "dock", code, memory_mb, timeout_ms);
  }

  ExecutionResult run_ok(const SandboxSpec& spec) {
    auto r = backend_->run(spec, {}, {});
    EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().message);
    return r ? *r : ExecutionResult{};
  }

  // Containers of ours the daemon still has.
  static std::size_t our_containers() {
    auto client = docker::EngineClient::from_env();
    if (!client) return 0;
    auto ids = client->list_containers(std::string(sandbox::docker::kBackendLabel) + "=docker");
    return ids ? ids->size() : 0;
  }

  fs::path scratch_, work_;
  std::unique_ptr<sandbox::Backend> backend_;
  int counter_ = 0;
};

TEST_F(DockerBackendTest, a_python_program_runs_with_its_input_and_is_measured) {
  auto r = run_ok(python("import os, json\nprint(json.loads(os.environ['IGNITE_INPUT'])['n'] * 6)\n"
                         "print(os.getuid() != 0, os.getcwd())\n"));
  EXPECT_EQ(r.outcome, Outcome::exited) << r.stderr_data;
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.stdout_data, "42\nTrue /app\n");
  EXPECT_GT(r.usage.peak_memory_bytes, 1u << 20);
  EXPECT_GT(r.usage.cpu.count(), 0);
  EXPECT_GT(r.usage.wall.count(), 0);
  EXPECT_LT(r.usage.wall, 5s);
}

TEST_F(DockerBackendTest, stdin_and_stderr_are_the_programs_own_pipes) {
  auto spec = python("import sys\ndata = sys.stdin.read()\nsys.stderr.write('err:' + data)\nsys.exit(3)\n");
  spec.stdin_data = "hello";
  auto r = run_ok(spec);
  EXPECT_EQ(r.outcome, Outcome::exited);
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.stderr_data, "err:hello");
}

TEST_F(DockerBackendTest, a_timeout_ends_the_container_at_the_limit) {
  auto r = run_ok(python("while True: pass\n", 64, 1000));
  EXPECT_EQ(r.outcome, Outcome::wall_time_exceeded);
  EXPECT_GE(r.usage.wall, 1s);
  EXPECT_LT(r.usage.wall, 3s);
}

TEST_F(DockerBackendTest, a_memory_bomb_is_oom_killed_in_our_cgroup) {
  auto r = run_ok(python("x = []\nwhile True: x.append(' ' * (1 << 20))\n", 48));
  EXPECT_EQ(r.outcome, Outcome::memory_exceeded) << r.stderr_data;
  EXPECT_GT(r.usage.peak_memory_bytes, 40ull << 20);
  EXPECT_LE(r.usage.peak_memory_bytes, 49ull << 20);
}

TEST_F(DockerBackendTest, a_blocked_system_call_is_named_as_on_native) {
  auto r = run_ok(python("import ctypes\nctypes.CDLL(None).syscall(246, 0, 0, 0, 0)\nprint('alive')\n"));  // kexec_load
  EXPECT_EQ(r.outcome, Outcome::syscall_blocked) << r.stdout_data << r.stderr_data;
  EXPECT_EQ(r.blocked_syscall, "kexec_load");
}

TEST_F(DockerBackendTest, a_warm_slot_runs_the_job_it_is_handed_as_a_cold_start_would) {
  auto cold_spec = python("import os, sys\nprint(sys.argv, os.getcwd(), os.environ.get('IGNITE_INPUT'), sys.stdin.read())\n");
  cold_spec.stdin_data = "in";
  auto cold = run_ok(cold_spec);
  auto rt = runtime::Catalog(runtime::default_roots()).resolve({"python", ""});
  ASSERT_TRUE(rt.has_value());
  auto w = engine::warm_split(cold_spec, *rt, 0, false);
  ASSERT_TRUE(w.has_value());
  auto slot = backend_->start(w->slot);
  ASSERT_TRUE(slot.has_value()) << slot.error().message;
  std::this_thread::sleep_for(300ms);  // idle: the clock starts at the hand-off
  auto r = (*slot)->run(w->job, {}, {});
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_TRUE(r->warm);
  EXPECT_EQ(r->stdout_data, cold.stdout_data);
  EXPECT_EQ(r->stderr_data, cold.stderr_data);
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_LT(r->usage.wall, 300ms);
  EXPECT_LT(r->setup, 100ms);
}

TEST_F(DockerBackendTest, a_warm_slot_gets_ad_hoc_files_at_the_hand_off) {
  auto cold_spec = python("import os\nprint(sorted(os.listdir('/app')), os.getcwd())\n");
  auto rt = runtime::Catalog(runtime::default_roots()).resolve({"python", ""});
  ASSERT_TRUE(rt.has_value());
  auto cold = run_ok(cold_spec);
  auto w = engine::warm_split(cold_spec, *rt, 0, true);  // /app as an ad-hoc job's staging dir
  ASSERT_TRUE(w.has_value());
  auto slot = backend_->start(w->slot);
  ASSERT_TRUE(slot.has_value()) << slot.error().message;
  auto r = (*slot)->run(w->job, {}, {});
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->stdout_data, cold.stdout_data) << r->stderr_data;
}

TEST_F(DockerBackendTest, two_hundred_runs_with_timeouts_and_oom_kills_leave_no_container_or_dir) {
  // The bar: 200 runs, timeouts and OOM kills among them.
  const std::size_t before = our_containers();
  if (before > 0) std::cout << "[ docker   ] " << before << " container(s) of ours were there before this test\n";
  const auto timeout = python("while True: pass\n", 64, 300);
  const auto oom = python("x = []\nwhile True: x.append(' ' * (1 << 20))\n", 32);
  const auto hello = python("print('ok')\n");
  int timeouts = 0, ooms = 0;
  for (int i = 0; i < 200; ++i) {
    auto r = backend_->run(i % 10 == 0 ? timeout : i % 10 == 1 ? oom : hello, {}, {});
    ASSERT_TRUE(r.has_value()) << r.error().message;
    timeouts += r->outcome == Outcome::wall_time_exceeded;
    ooms += r->outcome == Outcome::memory_exceeded;
  }
  EXPECT_EQ(timeouts, 20);
  EXPECT_EQ(ooms, 20);
  backend_.reset();  // drains the reaper
  EXPECT_EQ(our_containers(), before);
  std::error_code ec;
  std::size_t left = 0;
  for (auto it = fs::directory_iterator(scratch_, ec); !ec && it != fs::directory_iterator(); it.increment(ec)) ++left;
  EXPECT_EQ(left, 0u) << "slot dirs left in " << scratch_;
}

TEST_F(DockerBackendTest, a_build_step_is_refused_with_the_reason) {
  auto spec = python("print(1)\n");
  spec.output = OutputDir{};  // a program's /out is fine; a seeded one is a build step's
  spec.output->host_dest = work_;
  spec.output->seed.push_back({"package.json", "{}", false});
  auto r = backend_->run(spec, {}, {});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::unsupported);
  EXPECT_NE(r.error().message.find("native backend"), std::string::npos);
}

}  // namespace
}  // namespace ignite
