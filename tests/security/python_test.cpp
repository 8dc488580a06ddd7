// The same promises kept against a real runtime: Python programs doing the damage themselves.
#include "sandbox_fixture.hpp"

namespace ignite::security {
namespace {

IGNITE_SECURITY_SUITE(Python);

TEST_P(Python, python_fork_bomb_is_contained_by_pids_limit) {
  IGNITE_REQUIRE_CGROUP("the cgroup pids limit");
  auto r = run(python(
      "import os, time\nfailures = 0\n"
      "for _ in range(5000):\n"
      "    try:\n        pid = os.fork()\n    except OSError:\n        failures += 1\n"
      "        if failures >= 50: break\n        continue\n"
      "    if pid == 0:\n        time.sleep(60)\n        os._exit(0)\n"
      "print('failures', failures, flush=True)\n"));
  EXPECT_EQ(r.stdout_data, "failures 50\n") << r.stderr_data;
  EXPECT_LE(r.usage.pids_peak, 32u);
}

TEST_P(Python, python_memory_bomb_is_killed_at_the_memory_limit) {
  IGNITE_REQUIRE_CGROUP("the cgroup memory limit");
  auto r = run(python("blocks = []\nwhile True:\n    blocks.append(bytearray(1 << 20))\n"));
  EXPECT_EQ(r.outcome, Outcome::memory_exceeded) << r.stderr_data << r.detail;
  EXPECT_LE(r.usage.peak_memory_bytes, 97ull << 20);
}

TEST_P(Python, python_cannot_read_host_files) {
  auto r = run(python(
      "for p in ['/etc/shadow', '/root/.bashrc', '/proc/1/environ', '/sys/kernel/notes']:\n"
      "    try:\n        open(p, 'rb').read()\n        print(p, 'read')\n"
      "    except OSError as e:\n        print(p, type(e).__name__)\n"));
  EXPECT_EQ(r.stdout_data,
            "/etc/shadow FileNotFoundError\n/root/.bashrc FileNotFoundError\n"
            "/proc/1/environ PermissionError\n/sys/kernel/notes FileNotFoundError\n")
      << r.stderr_data;
}

TEST_P(Python, python_sees_no_host_environment) {
  ::setenv("IGNITE_HOST_SECRET", token().c_str(), 1);
  auto r = run(python("import os\nprint(sorted(os.environ))\n"));
  ::unsetenv("IGNITE_HOST_SECRET");
  EXPECT_FALSE(contains(r.stdout_data, "IGNITE_HOST_SECRET"));
  EXPECT_TRUE(contains(r.stdout_data, "'IGNITE_SERVICE'")) << r.stdout_data << r.stderr_data;
}

TEST_P(Python, python_blocked_syscall_is_reported_by_name) {
  // ctypes reaches the raw syscall(2): kexec_load (246 on x86_64) is a `kill` rule.
  auto r = run(python("import ctypes\nctypes.CDLL(None).syscall(246, 0, 0, 0, 0)\nprint('survived')\n"));
  EXPECT_EQ(r.outcome, Outcome::syscall_blocked) << r.stderr_data << r.detail;
  EXPECT_EQ(r.blocked_syscall, "kexec_load");
  EXPECT_EQ(r.stdout_data, "");
}

TEST_P(Python, python_gets_eperm_for_refused_syscalls) {
  auto r = run(python(
      "import ctypes, os\nlibc = ctypes.CDLL(None, use_errno=True)\n"
      "print(libc.unshare(0x10000000), os.strerror(ctypes.get_errno()))\n"));
  EXPECT_EQ(r.stdout_data, "-1 Operation not permitted\n") << r.stderr_data;
}

}  // namespace
}  // namespace ignite::security
