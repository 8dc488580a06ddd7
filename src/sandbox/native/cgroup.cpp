#include "sandbox/native/cgroup.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cmath>
#include <cstdlib>
#include <utility>
#include <set>
#include <sstream>
#include <thread>

#include <spdlog/spdlog.h>

#include "sys/files.hpp"

namespace ignite::sandbox::native {
namespace {

namespace fs = std::filesystem;

std::uint64_t read_or_zero(const fs::path& p) {
  auto v = sys::read_u64(p);
  return v ? *v : 0;
}

// Value of `key` in "key value" lines (memory.events, memory.stat, cpu.stat, memory.oom_control).
std::uint64_t keyed_value(const std::string& text, std::string_view key) {
  std::istringstream in(text);
  std::string k;
  std::uint64_t v = 0;
  while (in >> k >> v) {
    if (k == key) return v;
  }
  return 0;
}

std::uint64_t keyed_value(const fs::path& p, std::string_view key) {
  auto text = sys::read_file(p);
  return text ? keyed_value(*text, key) : 0;
}

std::uint64_t read_fd_u64(int fd) {
  char buf[32] = {};
  ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  return n > 0 ? std::strtoull(buf, nullptr, 10) : 0;
}

std::vector<pid_t> members(const fs::path& dir) {
  std::vector<pid_t> pids;
  auto text = sys::read_file(dir / "cgroup.procs");
  if (!text) return pids;
  std::istringstream in(*text);
  pid_t pid = 0;
  while (in >> pid) pids.push_back(pid);
  return pids;
}

}  // namespace

Result<Cgroup> Cgroup::create(const CgroupLayout& layout, std::string_view name,
                              const CgroupLimits& limits) {
  Cgroup cg;
  cg.version_ = layout.version;
  auto make = [&](const std::string& controller, const fs::path& parent) -> Status {
    fs::path d = parent / name;
    if (::mkdir(d.c_str(), 0755) != 0) return fail(Error::from_errno("create cgroup " + d.string()));
    cg.dirs_.emplace_back(controller, d);
    return ok();
  };
  if (layout.version == CgroupVersion::v2) {
    IGNITE_TRY(make("", layout.v2_base));
  } else if (layout.version == CgroupVersion::v1) {
    for (const auto& [controller, parent] : layout.v1_base) IGNITE_TRY(make(controller, parent));
  } else {
    return fail(ErrorCode::unsupported, layout.describe());
  }
  IGNITE_TRY(cg.apply(limits));
  return cg;
}

Cgroup Cgroup::adopt(const CgroupLayout& layout, std::string_view name) {
  Cgroup cg;
  cg.version_ = layout.version;
  std::error_code ec;
  auto take = [&](const std::string& controller, const fs::path& parent) {
    const fs::path d = parent / name;
    if (fs::is_directory(d, ec)) cg.dirs_.emplace_back(controller, d);
  };
  if (layout.version == CgroupVersion::v2) take("", layout.v2_base);
  if (layout.version == CgroupVersion::v1) {
    for (const auto& [controller, parent] : layout.v1_base) take(controller, parent);
  }
  return cg;
}

std::size_t collect_stale_cgroups(const CgroupLayout& layout,
                                  const std::function<bool(std::string_view)>& stale) {
  std::set<std::string> names;
  std::error_code ec;
  auto scan = [&](const fs::path& parent) {
    for (fs::directory_iterator it(parent, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      if (!it->is_directory(ec) || name == "supervisor") continue;
      if (stale(name)) {
        names.insert(name);
      } else if (name.rfind("run-", 0) == 0 && sys::older_than(it->path(), std::chrono::hours(2))) {
        // An older Ignite's untagged run: its owner cannot be told; an empty one that outlived
        // every run's time limit is removed, a non-empty one is never touched (rmdir fails).
        ::rmdir(it->path().c_str());
      }
    }
  };
  if (layout.version == CgroupVersion::v2) scan(layout.v2_base);
  if (layout.version == CgroupVersion::v1) {
    for (const auto& [controller, parent] : layout.v1_base) scan(parent);
  }
  for (const auto& name : names) {
    spdlog::info("collecting cgroup {} left by an Ignite that is gone", name);
    Cgroup leftover = Cgroup::adopt(layout, name);  // its destructor kills and removes
  }
  return names.size();
}

CgroupLayout ready_cgroups(const fs::path& proc, const std::function<bool(std::string_view)>& stale) {
  CgroupLayout layout = detect_cgroups(proc);
  if (layout.version != CgroupVersion::none) {
    if (auto prepared = prepare_cgroup_parent(layout); !prepared) {
      layout.reason = prepared.error().message;
      layout.version = CgroupVersion::none;
    }
  }
  if (layout.version != CgroupVersion::none && stale) collect_stale_cgroups(layout, stale);
  return layout;
}

Cgroup Cgroup::observe(pid_t pid, const fs::path& proc) {
  ProcessCgroups found = cgroups_of(pid, proc);
  Cgroup c;
  c.version_ = found.version;
  c.dirs_ = std::move(found.dirs);
  c.owned_ = false;
  return c;
}

Cgroup::Cgroup(Cgroup&& other) noexcept
    : version_(other.version_),
      dirs_(std::move(other.dirs_)),
      peak_fd_(std::exchange(other.peak_fd_, -1)),
      owned_(other.owned_) {
  other.dirs_.clear();
}

fs::path Cgroup::dir(std::string_view controller) const {
  for (const auto& [c, d] : dirs_) {
    if (version_ == CgroupVersion::v2 || c == controller) return d;
  }
  return {};
}

Status Cgroup::apply(const CgroupLimits& limits) const {
  const std::string mem = std::to_string(limits.memory_max_bytes);
  const std::uint64_t period = 100000;
  const auto quota = static_cast<std::uint64_t>(std::llround(limits.cpu_cores * double(period)));
  if (version_ == CgroupVersion::v2) {
    const fs::path d = dir("");
    if (limits.memory_max_bytes) {
      IGNITE_TRY(sys::write_file(d / "memory.max", mem));
      // No swap: a memory limit that can spill to swap is not a limit. Absent without swap.
      (void)sys::write_file(d / "memory.swap.max", "0");
    }
    if (limits.pids_max) IGNITE_TRY(sys::write_file(d / "pids.max", std::to_string(limits.pids_max)));
    if (quota && fs::exists(d / "cpu.max"))
      IGNITE_TRY(sys::write_file(d / "cpu.max", std::to_string(quota) + " " + std::to_string(period)));
    return ok();
  }
  if (limits.memory_max_bytes) {
    const fs::path d = dir("memory");
    IGNITE_TRY(sys::write_file(d / "memory.limit_in_bytes", mem));
    // memsw (memory+swap) must be >= memory.limit; equal means no swap. Absent without swapaccount.
    if (fs::exists(d / "memory.memsw.limit_in_bytes"))
      IGNITE_TRY(sys::write_file(d / "memory.memsw.limit_in_bytes", mem));
  }
  if (limits.pids_max)
    IGNITE_TRY(sys::write_file(dir("pids") / "pids.max", std::to_string(limits.pids_max)));
  if (quota && !dir("cpu").empty()) {
    IGNITE_TRY(sys::write_file(dir("cpu") / "cpu.cfs_period_us", std::to_string(period)));
    IGNITE_TRY(sys::write_file(dir("cpu") / "cpu.cfs_quota_us", std::to_string(quota)));
  }
  return ok();
}

Result<std::vector<sys::Fd>> Cgroup::open_for_join() const {
  std::vector<sys::Fd> fds;
  for (const auto& [c, d] : dirs_) {
    const fs::path p = version_ == CgroupVersion::v2 ? d : d / "tasks";
    const int flags = version_ == CgroupVersion::v2 ? O_RDONLY | O_DIRECTORY : O_WRONLY;
    sys::Fd fd(::open(p.c_str(), flags | O_CLOEXEC));
    if (!fd) return fail(Error::from_errno("open " + p.string()));
    fds.push_back(std::move(fd));
  }
  return fds;
}

Status Cgroup::add(pid_t pid) const {
  const std::string p = std::to_string(pid);
  for (const auto& [c, d] : dirs_) IGNITE_TRY(sys::write_file(d / "cgroup.procs", p));
  return ok();
}

CgroupUsage Cgroup::usage(const CgroupUsage& since) const {
  CgroupUsage u;
  if (version_ == CgroupVersion::v2) {
    const fs::path d = dir("");
    u.memory_peak_bytes = peak_fd_ >= 0 ? read_fd_u64(peak_fd_) : read_or_zero(d / "memory.peak");  // >= 5.19
    u.memory_current_bytes = read_or_zero(d / "memory.current");
    u.cpu_usage_usec = keyed_value(d / "cpu.stat", "usage_usec");
    u.pids_peak = static_cast<std::uint32_t>(read_or_zero(d / "pids.peak"));
    u.oom_killed = keyed_value(d / "memory.events", "oom_kill") > 0;
  } else {
    const fs::path mem = dir("memory");
    u.memory_peak_bytes = read_or_zero(mem / "memory.max_usage_in_bytes");
    u.memory_current_bytes = read_or_zero(mem / "memory.usage_in_bytes");
    u.oom_killed = keyed_value(mem / "memory.oom_control", "oom_kill") > 0;
    if (!dir("cpuacct").empty()) u.cpu_usage_usec = read_or_zero(dir("cpuacct") / "cpuacct.usage") / 1000;
    u.pids_peak = static_cast<std::uint32_t>(read_or_zero(dir("pids") / "pids.peak"));
  }
  u.cpu_usage_usec -= std::min(u.cpu_usage_usec, since.cpu_usage_usec);
  return u;
}

CgroupUsage Cgroup::begin_job() {
  if (version_ == CgroupVersion::v2) {
    const fs::path peak = dir("") / "memory.peak";
    int fd = ::open(peak.c_str(), O_RDWR | O_CLOEXEC);
    if (fd >= 0 && ::write(fd, "0", 1) == 1) {
      peak_fd_ = fd;
    } else if (fd >= 0) {
      ::close(fd);  // an older kernel: the peak includes the bootstrap's (it is the runtime's own)
    }
  } else if (version_ == CgroupVersion::v1) {
    (void)sys::write_file(dir("memory") / "memory.max_usage_in_bytes", "0");
  }
  return usage();
}

std::optional<ThrashWatch> Cgroup::thrash_watch(std::uint64_t memory_limit_bytes) const {
  if (memory_limit_bytes == 0 || version_ == CgroupVersion::none) return std::nullopt;
  const bool v2 = version_ == CgroupVersion::v2;
  const fs::path mem = dir(v2 ? "" : "memory");
  if (mem.empty()) return std::nullopt;
  // The same counters under both versions' names. v1 has no memory.events; its failcnt counts
  // limit hits on some kernels and stays 0 on others (6.18 here, thrashing at the limit), so a
  // sample that finds the usage within the charge batches' slack of the limit counts as a hit
  // too. v1 calls its page cache "cache".
  auto hits = [mem, v2, limit = memory_limit_bytes, at_limit = std::uint64_t{0}]() mutable {
    if (v2) return keyed_value(mem / "memory.events", "max");
    if (read_or_zero(mem / "memory.usage_in_bytes") + std::max(limit / 64, std::uint64_t{1} << 20) >= limit) ++at_limit;
    return read_or_zero(mem / "memory.failcnt") + read_or_zero(mem / "memory.memsw.failcnt") + at_limit;
  };
  auto stat = [mem, v2] {
    // One read: the two values come from the same moment.
    auto text = sys::read_file(mem / "memory.stat");
    if (!text) return MemorySample{};
    return MemorySample{0, keyed_value(*text, "workingset_refault_file"),
                        evictable_file_bytes(keyed_value(*text, v2 ? "file" : "cache"), keyed_value(*text, "shmem"))};
  };
  return ThrashWatch(memory_limit_bytes, hits, stat);
}

void Cgroup::kill_all() const {
  if (dirs_.empty()) return;
  if (version_ == CgroupVersion::v2 && sys::write_file(dir("") / "cgroup.kill", "1")) return;
  // v1 has no cgroup.kill. The pids hierarchy holds every member; a fork racing with this loop
  // is caught by the next pass, and pids.max bounds how many there can be.
  const fs::path d = version_ == CgroupVersion::v2 ? dir("") : dir("pids");
  for (int pass = 0; pass < 100; ++pass) {
    auto pids = members(d);
    if (pids.empty()) return;
    for (pid_t pid : pids) ::kill(pid, SIGKILL);
  }
}

Cgroup::~Cgroup() {
  if (peak_fd_ >= 0) ::close(peak_fd_);
  if (dirs_.empty() || !owned_) return;
  kill_all();
  // rmdir fails with EBUSY until the killed members have fully exited; that takes
  // microseconds to a few milliseconds, so a short bounded retry is enough.
  for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
    const fs::path& d = it->second;
    int attempts = 0;
    while (::rmdir(d.c_str()) != 0) {
      if (errno == ENOENT) break;
      if (errno != EBUSY || ++attempts > 2000) {
        spdlog::warn("cgroup cleanup: rmdir {}: {}", d.string(), std::strerror(errno));
        break;
      }
      kill_all();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
}

}  // namespace ignite::sandbox::native
