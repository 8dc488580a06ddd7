// The thrash watch (core/memory_thrash.hpp) in the native backend: a run pinned at its memory
// limit, its own file pages evicted as fast as it reads them, gets no OOM kill from the kernel;
// the supervisor's watch ends it as over its limit. And a run streaming a file bigger than its
// limit through a roomy page cache is left alone.
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "core/memory_thrash.hpp"
#include "native_fixture.hpp"

namespace ignite::testing {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

// Why no run can thrash on `path`'s pages, or empty: tmpfs and ramfs pages are not page cache
// that reclaim can evict (there is no swap).
std::string unevictable(const fs::path& path) {
  struct statfs fs {};
  if (::statfs(path.c_str(), &fs) != 0) return "statfs " + path.string() + " failed";
  if (fs.f_type == TMPFS_MAGIC || fs.f_type == RAMFS_MAGIC)
    return path.string() + " is on tmpfs/ramfs: its pages cannot be evicted, so no run can thrash on them";
  return {};
}

// A file of `mb` MiB in a temporary dir of its own (the backend owns what is in its scratch
// root), none of it in the page cache: the sandbox's reads must charge its pages to the run's
// cgroup (pages cached by the test would be charged to ours). Removed with the object.
class UncachedFile {
 public:
  explicit UncachedFile(int mb)
      : dir_(fs::temp_directory_path() / ("ignite-thrash-" + std::to_string(::getpid()))), path_(dir_ / "data") {
    fs::create_directories(dir_);
    const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    EXPECT_GE(fd, 0) << path_;
    const std::string chunk(1 << 20, 'd');
    for (int i = 0; i < mb; ++i)
      EXPECT_EQ(::write(fd, chunk.data(), chunk.size()), static_cast<ssize_t>(chunk.size()));
    ::fsync(fd);
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    ::close(fd);
  }
  ~UncachedFile() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  UncachedFile(const UncachedFile&) = delete;
  UncachedFile& operator=(const UncachedFile&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path dir_, path_;
};

TEST_F(NativeTest, a_run_thrashing_at_its_memory_limit_ends_as_memory_limit_not_timeout) {
  // 60 of 64 MiB held, a 32 MiB file read over and over through what is left: every read evicts
  // the pages the previous one brought in. Without the watch this runs into its wall limit.
  auto spec = probe_spec({"reread", "60", "/data", "0"});
  const UncachedFile data(32);
  fs::path source = data.path();
  // The cgroup v2 guest's /tmp is a tmpfs. There the data is this test binary instead, read over
  // the guest's 9p share of the host's disk (page cache that can be evicted): most of it (its
  // debug sections) nothing has read yet, so the run's reads are charged to the run.
  if (!unevictable(source).empty()) source = fs::read_symlink("/proc/self/exe");
  if (const std::string why = unevictable(source); !why.empty()) GTEST_SKIP() << why;
  spec.mounts.push_back({source, "/data", false});
  spec.limits.wall_time = 20s;
  const auto r = run_ok(spec);
  EXPECT_EQ(r.outcome, Outcome::memory_exceeded) << r.detail << r.stdout_data << r.stderr_data;
  EXPECT_EQ(r.detail, kThrashKillDetail);
  EXPECT_EQ(status_name(r.outcome, r.exit_code), "memory_limit");
  EXPECT_LT(r.usage.wall, 10s) << "the watch ends it within seconds, long before the wall limit";
  EXPECT_LE(r.usage.peak_memory_bytes, 64ull << 20);
}

TEST_F(NativeTest, streaming_a_file_bigger_than_the_limit_through_a_roomy_cache_is_not_thrashing) {
  // 8 of 64 MiB held, a 96 MiB file read 3 times: ~72,000 refaults, more than the thrash budget,
  // but the page cache keeps most of the limit. A legitimate program: it must finish.
  auto spec = probe_spec({"reread", "8", "/data", "3"});
  const UncachedFile data(96);
  // On tmpfs nothing is charged or evicted: the test would pass without asserting anything. (The
  // microvm's re-reading test makes the same point on the guest's cgroup v2.)
  if (const std::string why = unevictable(data.path()); !why.empty()) GTEST_SKIP() << why;
  spec.mounts.push_back({data.path(), "/data", false});
  spec.limits.wall_time = 30s;
  const auto r = run_ok(spec);
  EXPECT_EQ(r.outcome, Outcome::exited) << r.detail << r.stderr_data;
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.stdout_data, "reread 3 times\n");
}

}  // namespace
}  // namespace ignite::testing
