// Warm microVM slots (issue 13, item 5) with real QEMU: the runtime's bootstrap started in a
// VM ahead of the job, the job handed to it, and what the program sees, its limits and its
// usage the same as in a VM booted for it. Skips, with the reason, where QEMU, the guest kernel
// or the agent is missing.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>

#include <chrono>
#include <thread>

#include "engine/warm_split.hpp"
#include "microvm_fixture.hpp"
#include "runtime/catalog.hpp"
#include "runtime/warm.hpp"
#include "sandbox/common/handoff.hpp"
#include "sys/files.hpp"

namespace ignite {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Warm slots come from templates, as a server's do.
class MicroVmWarm : public MicroVmTemplates {
 protected:
  // The warm half of `cold` (an ad-hoc job: its /app is the job's, handed over).
  engine::WarmSplit split(const SandboxSpec& cold) {
    auto rt = runtime::Catalog(runtime::default_roots()).resolve({"python", ""});
    EXPECT_TRUE(rt.has_value());
    auto w = engine::warm_split(cold, *rt, 0, true);
    EXPECT_TRUE(w.has_value());
    return w ? *w : engine::WarmSplit{};
  }
  // `w` with its bootstrap replaced by `code` (python source: the slot runs it as a .py, where
  // the real bootstrap may be a .pyc).
  static engine::WarmSplit with_bootstrap(engine::WarmSplit w, const std::string& code) {
    const std::string source(runtime::warm_bootstrap("python")->path);
    for (auto& f : w.slot.files)
      if (f.target.string().find("/warm/") != std::string::npos) {
        f.target = source;
        f.content = code;
      }
    for (auto& a : w.slot.argv)
      if (a.find("/warm/") != std::string::npos) a = source;
    return w;
  }
  // Starts `w`'s slot (it must come up), leaves it idle for `idle`, and hands it `w`'s job; the
  // slot is gone when this returns.
  Result<ExecutionResult> run_warm(const engine::WarmSplit& w, std::chrono::milliseconds idle = 0ms) {
    auto slot = backend_->start(w.slot);
    EXPECT_TRUE(slot.has_value()) << (slot ? "" : slot.error().message);
    if (!slot) return fail(std::move(slot).error());
    std::this_thread::sleep_for(idle);
    return (*slot)->run(w.job, {}, {});
  }
};

TEST_F(MicroVmWarm, a_warm_vm_runs_the_job_it_is_handed_as_a_booted_vm_would) {
  auto cold = python("import os, sys, json\n"
                     "print(sys.argv, os.getcwd(), json.loads(os.environ['IGNITE_INPUT']), repr(sys.stdin.read()))\n"
                     "print(sorted(os.listdir('/app')), open('/app/sub/data.txt').read(), os.access('/app/run.sh', os.X_OK))\n"
                     "for p in ['/app/new', '/drops', '/host']:\n"
                     "    try:\n        open(p, 'w')\n    except OSError as e:\n        print(p, e.errno)\n"
                     "print(os.getuid(), len(os.urandom(8)))\n");
  fs::path app;
  for (const auto& m : cold.mounts)
    if (m.target == "/app") app = m.source;
  ASSERT_FALSE(app.empty());
  fs::create_directories(app / "sub");
  ASSERT_TRUE(sys::write_new_file(app / "sub/data.txt", "payload").has_value());
  ASSERT_TRUE(sys::write_new_file(app / "run.sh", "#!/bin/sh\n", 0755).has_value());
  fs::permissions(app / "sub", fs::perms::others_read | fs::perms::others_exec, fs::perm_options::add);
  ::chmod((app / "sub/data.txt").c_str(), 0644);
  cold.stdin_data = "the stdin";
  const auto booted = run_ok(cold);

  auto w = split(cold);
  auto slot = backend_->start(w.slot);
  ASSERT_TRUE(slot.has_value()) << slot.error().message;
  std::this_thread::sleep_for(500ms);  // idle: nothing of it is the job's
  w.job.stdin_data = "the stdin";
  auto r = (*slot)->run(w.job, {}, {});
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_TRUE(r->warm);
  EXPECT_FALSE(booted.warm);
  EXPECT_EQ(r->exit_code, 0) << r->stderr_data;
  EXPECT_EQ(r->stdout_data, booted.stdout_data);
  EXPECT_NE(r->stdout_data.find("['main.py', 'run.sh', 'service.yaml', 'sub'] payload True"), std::string::npos)
      << r->stdout_data;
  EXPECT_NE(r->stdout_data.find("/app/new 30"), std::string::npos) << "the job's files are read-only to it";
  EXPECT_EQ(r->stderr_data, booted.stderr_data);
  std::cout << "[ microvm  ] booted: setup " << booted.setup.count() / 1000 << " ms; warm: setup "
            << r->setup.count() / 1000 << " ms, run " << r->usage.wall.count() / 1000 << " ms\n";
  EXPECT_LT(r->setup, 200ms) << "a warm slot's setup is the hand-off alone";
  EXPECT_LT(r->usage.wall, booted.usage.wall + 2s);
  slot->reset();
  expect_nothing_left_after_the_backend();
}

TEST_F(MicroVmWarm, limits_hold_and_the_clock_starts_at_the_hand_off) {
  auto w = split(python("while True: pass\n", 64, 3000));
  auto slot = backend_->start(w.slot);
  ASSERT_TRUE(slot.has_value()) << slot.error().message;
  std::this_thread::sleep_for(2s);  // idle for two of its three seconds: not counted
  auto r = (*slot)->run(w.job, {}, {});
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->outcome, Outcome::wall_time_exceeded);
  EXPECT_GE(r->usage.wall, 2900ms);
  EXPECT_LT(r->usage.wall, 6s);

  auto bomb = split(python("x = []\nwhile True: x.append(' ' * (1 << 20))\n", 48));
  auto bomb_slot = backend_->start(bomb.slot);
  ASSERT_TRUE(bomb_slot.has_value()) << bomb_slot.error().message;
  auto b = (*bomb_slot)->run(bomb.job, {}, {});
  ASSERT_TRUE(b.has_value()) << b.error().message;
  EXPECT_EQ(b->outcome, Outcome::memory_exceeded) << b->detail << b->stderr_data;
}

TEST_F(MicroVmWarm, a_bootstrap_that_exits_fails_its_warm_up_with_its_stderr) {
  auto w = with_bootstrap(split(python("print(1)\n")), "import sys\nsys.stderr.write('no runtime here')\nsys.exit(3)\n");
  auto slot = backend_->start(w.slot);
  ASSERT_FALSE(slot.has_value());
  EXPECT_NE(slot.error().message.find("the bootstrap exited: no runtime here"), std::string::npos)
      << slot.error().message;
  expect_nothing_left_after_the_backend();
}

TEST_F(MicroVmWarm, a_bootstrap_that_writes_while_idle_is_not_handed_a_job) {
  // Ready, then a write while idle: the slot is unusable (`unavailable`: a pool runs the job
  // cold), and nothing of the job reached the VM.
  auto w = with_bootstrap(split(python("print(1)\n")),
                          "import sys, time\n"
                          "sys.stdout.buffer.write(b'\\0ignite-ready\\n'); sys.stdout.flush()\n"
                          "time.sleep(0.2); sys.stdout.write('late'); sys.stdout.flush()\n"
                          "sys.stdin.read()\n");
  auto r = run_warm(w, 3s);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::unavailable) << r.error().message;
  expect_nothing_left_after_the_backend();
}

TEST_F(MicroVmWarm, what_the_bootstrap_writes_to_stderr_while_idle_is_the_jobs_stderr_as_on_native) {
  auto w = with_bootstrap(split(python("print(1)\n")),
                          "import sys, time, json, runpy, os\n"
                          "sys.stdout.buffer.write(b'\\0ignite-ready\\n'); sys.stdout.flush()\n"
                          "time.sleep(0.2); sys.stderr.write('warming\\n'); sys.stderr.flush()\n"
                          "n = int(sys.stdin.buffer.readline()); job = json.loads(sys.stdin.buffer.read(n))\n"
                          "os.chdir(job['cwd']); print('job', job['argv'][1:])\n");
  auto r = run_warm(w, 3s);
  ASSERT_TRUE(r.has_value()) << r.error().message;
  EXPECT_EQ(r->stdout_data, "job []\n");
  EXPECT_EQ(r->stderr_data, "warming\n");
}

TEST_F(MicroVmWarm, a_bootstrap_whose_call_the_filter_stops_while_idle_is_not_handed_a_job) {
  auto w = with_bootstrap(split(python("print(1)\n")),
                          "import sys, ctypes\n"
                          "sys.stdout.buffer.write(b'\\0ignite-ready\\n'); sys.stdout.flush()\n"
                          "ctypes.CDLL(None).syscall(246, 0, 0, 0, 0)\n"  // kexec_load
                          "sys.stdin.read()\n");
  auto r = run_warm(w, 3s);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::unavailable) << r.error().message;
}

TEST_F(MicroVmWarm, a_vm_that_ends_after_the_hand_off_is_an_error_a_pool_does_not_retry) {
  // The job may have run by then: `unavailable` would make a pool run it again, cold.
  auto w = split(python("import time\nprint('started', flush=True)\ntime.sleep(30)\n"));
  auto slot = backend_->start(w.slot);
  ASSERT_TRUE(slot.has_value()) << slot.error().message;
  std::jthread killer([this] {
    std::this_thread::sleep_for(2s);  // into the job
    // This test's QEMUs: the agent port on their command line, their cwd a VM dir of ours.
    for (int pid : testing::host_processes_with("name=ignite.agent")) {
      std::error_code ec;
      const auto cwd = fs::read_symlink("/proc/" + std::to_string(pid) + "/cwd", ec).string();
      if (cwd.rfind(scratch_.string() + "/", 0) == 0) ::kill(pid, SIGKILL);
    }
  });
  auto r = (*slot)->run(w.job, {}, {});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::internal) << r.error().message;
}

TEST_F(MicroVmWarm, a_job_file_outside_the_drop_dirs_is_refused_before_anything_runs) {
  auto w = split(python("print(1)\n"));
  w.job.files.push_back({"/etc/passwd", "root::0:0::/:/bin/sh\n", false});
  auto r = run_warm(w);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::invalid_argument) << r.error().message;
}

}  // namespace
}  // namespace ignite
