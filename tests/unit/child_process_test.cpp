// sys::ChildProcess::wait: the exit status and the reaped child's own rusage (the raw waitid's
// fifth argument), which the microvm backend reports as the VM's cost on the host.
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <ctime>

#include "sys/child_process.hpp"

namespace ignite::sys {
namespace {

using namespace std::chrono_literals;

// Forks a child that runs `body` and exits with its return value, owned through a pidfd.
template <typename Body>
ChildProcess fork_child(Body body) {
  const pid_t pid = ::fork();
  if (pid == 0) ::_exit(body());
  const int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  return ChildProcess(pid, Fd(fd));
}

TEST(ChildProcess, wait_reports_the_childs_own_peak_memory_and_cpu) {
  auto child = fork_child([] {
    constexpr std::size_t kSize = 64u << 20;
    void* p = ::mmap(nullptr, kSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return 2;
    std::memset(p, 1, kSize);  // resident: 64 MiB
    // 300 ms of its own CPU time, however loaded the host is.
    timespec used{};
    volatile unsigned spin = 0;
    do {
      for (int i = 0; i < 100000; ++i) spin = spin + 1;
      ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &used);
    } while (used.tv_sec == 0 && used.tv_nsec < 300'000'000);
    return 7;
  });
  ASSERT_TRUE(child);
  auto st = child.wait();
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(st->exit_code, std::optional<int>(7));
  EXPECT_GE(st->peak_rss_bytes, 64ull << 20);
  EXPECT_LT(st->peak_rss_bytes, 1ull << 30) << "KiB read as bytes, or the parent's rusage";
  EXPECT_GE(st->cpu, 250ms);
  EXPECT_LT(st->cpu, 30s);
  EXPECT_FALSE(child) << "reaped";
}

TEST(ChildProcess, a_killed_child_reports_its_signal) {
  auto child = fork_child([] {
    ::pause();
    return 0;
  });
  ASSERT_TRUE(child.send_signal(SIGKILL));
  auto st = child.wait();
  ASSERT_TRUE(st);
  EXPECT_EQ(st->signal, std::optional<int>(SIGKILL));
  EXPECT_FALSE(st->exit_code.has_value());
}

}  // namespace
}  // namespace ignite::sys
