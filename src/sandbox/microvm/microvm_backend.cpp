#include "sandbox/microvm/microvm_backend.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <poll.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <thread>

#include <spdlog/spdlog.h>

#include "sandbox/microvm/microvm_slot.hpp"
#include "sandbox/microvm/vm_image.hpp"
#include "sys/files.hpp"
#include "sys/helper_binary.hpp"

namespace ignite::sandbox::microvm {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

std::optional<fs::path> on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    const auto end = std::min(dirs.find(':', start), dirs.size());
    const fs::path candidate = fs::path(dirs.substr(start, end - start)) / name;
    if (!candidate.parent_path().empty() && ::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return std::nullopt;
}

std::optional<fs::path> guest_kernel() {
  if (const char* k = std::getenv("IGNITE_GUEST_KERNEL"); k && *k) return fs::path(k);
  const char* cache = std::getenv("IGNITE_GUEST_CACHE");
  const fs::path dir = cache && *cache ? fs::path(cache) : fs::path("/var/cache/ignite/guest");
  std::optional<fs::path> newest;
  fs::file_time_type newest_time{};
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.path().filename().string().rfind("kernel-", 0) != 0) continue;
    const auto image = e.path() / "vmlinux";
    const auto t = fs::last_write_time(image, ec);
    if (ec) continue;
    if (!newest || t > newest_time) newest = image, newest_time = t;
  }
  return newest;
}

std::optional<fs::path> agent_binary() { return sys::helper_binary("IGNITE_GUEST_AGENT", "ignite-guest-agent"); }

std::uint32_t tsc_khz() {
  std::ifstream f("/sys/devices/system/cpu/cpu0/tsc_freq_khz");
  std::uint32_t khz = 0;
  if (f >> khz && khz) return khz;
  std::ifstream info("/proc/cpuinfo");
  std::string line;
  while (std::getline(info, line))
    if (line.rfind("cpu MHz", 0) == 0)
      if (auto colon = line.find(':'); colon != std::string::npos)
        return static_cast<std::uint32_t>(std::strtod(line.c_str() + colon + 1, nullptr) * 1000.0);
  return 0;
}

// fork + exec of QEMU with its stdio on /dev/null and the console log. The child dies with the
// thread that started it (PDEATHSIG), so a killed Ignite leaves no VM running. Before the exec it
// assembles the share in a mount namespace of its own: a tmpfs on `share` with each entry bound
// read-only at <share>/<name>, seen by this QEMU alone (nothing propagates to the host).
Result<sys::ChildProcess> spawn(const std::vector<std::string>& argv, const fs::path& log, const fs::path& share,
                                const std::vector<ShareEntry>& entries) {
  std::vector<char*> args;
  std::vector<std::string> copy = argv;
  for (auto& a : copy) args.push_back(a.data());
  args.push_back(nullptr);
  // Everything the child touches is prepared here: between fork and exec it only makes syscalls.
  std::vector<std::string> targets;
  for (const auto& e : entries) targets.push_back((share / e.name).string());
  const std::string share_dir = share.string();
  const int null_fd = ::open("/dev/null", O_RDWR | O_CLOEXEC);
  const int log_fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (null_fd < 0 || log_fd < 0) {
    const int err = errno;
    if (null_fd >= 0) ::close(null_fd);
    if (log_fd >= 0) ::close(log_fd);
    return fail(Error::from_errno("open QEMU's stdio", err));
  }
  const pid_t parent = ::getpid();
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) ::_exit(127);
    ::dup2(null_fd, 0);
    ::dup2(log_fd, 1);
    ::dup2(log_fd, 2);
    auto die = [](const char* what) {
      (void)!::write(2, "ignite: share: ", 15);
      (void)!::write(2, what, std::strlen(what));
      (void)!::write(2, "\n", 1);
      ::_exit(126);
    };
    if (::unshare(CLONE_NEWNS) != 0) die("unshare");
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0) die("make mounts private");
    if (::mount("share", share_dir.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m") != 0) die("tmpfs");
    for (std::size_t i = 0; i < entries.size(); ++i) {
      const char* t = targets[i].c_str();
      if (entries[i].is_dir) {
        if (::mkdir(t, 0755) != 0) die("mkdir");
      } else {
        const int fd = ::open(t, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
        if (fd < 0) die("create");
        ::close(fd);
      }
      if (::mount(entries[i].source.c_str(), t, nullptr, MS_BIND | MS_REC, nullptr) != 0) die("bind");
      if (::mount(nullptr, t, nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, nullptr) != 0)
        die("remount read-only");
    }
    if (::mount(nullptr, share_dir.c_str(), nullptr, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, "mode=0755,size=1m") != 0)
      die("remount the share read-only");
    ::syscall(SYS_close_range, 3u, ~0u, 0u);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  const int err = errno;
  ::close(null_fd);
  ::close(log_fd);
  if (pid < 0) return fail(Error::from_errno("fork QEMU", err));
  // Safe from PID reuse: the child is ours and not reaped yet.
  const int pidfd = static_cast<int>(::syscall(SYS_pidfd_open, pid, 0));
  if (pidfd < 0) {
    const int e = errno;
    ::kill(pid, SIGKILL);
    return fail(Error::from_errno("pidfd_open QEMU", e));
  }
  return sys::ChildProcess(pid, sys::Fd(pidfd));
}

// Connects to QEMU's agent socket once it listens; QEMU's exit ends the wait.
Result<sys::Fd> connect_agent(const fs::path& socket, const sys::ChildProcess& qemu, Clock::time_point deadline) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket.string().size() >= sizeof addr.sun_path) return fail(ErrorCode::internal, "the agent socket's path is too long");
  std::copy_n(socket.c_str(), socket.string().size(), addr.sun_path);
  for (;;) {
    sys::Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) return fail(Error::from_errno("socket"));
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) return fd;
    if (errno != ENOENT && errno != ECONNREFUSED) return fail(Error::from_errno("connect to the VM's agent socket"));
    pollfd p{qemu.pidfd(), POLLIN, 0};
    if (::poll(&p, 1, 10) > 0) return fail(ErrorCode::unavailable, "QEMU exited before it listened");
    if (Clock::now() > deadline) return fail(ErrorCode::unavailable, "QEMU did not listen in time");
  }
}

// The console log's tail, for the log only (it holds QEMU's errors, with host paths).
std::string console_tail(const fs::path& log) {
  auto text = sys::read_file(log, 1u << 20);
  if (!text) return "(no console log)";
  return text->size() > 2000 ? text->substr(text->size() - 2000) : *text;
}

class MicroVmBackend final : public Backend {
 public:
  explicit MicroVmBackend(MicroVmConfig config) : c_(std::move(config)) {}
  std::string_view name() const noexcept override { return "microvm"; }

  Result<std::unique_ptr<Slot>> start(const SandboxSpec& spec) override {
    IGNITE_TRY(validate(spec, c_.ceilings));
    if (spec.warm) return fail(ErrorCode::unsupported, "microvm: warm slots are not built yet (cold runs only)");
    if (spec.limits.network || spec.egress)
      return fail(ErrorCode::unsupported, "microvm: network access is not built yet (the VM has no network device)");
    for (const auto& m : spec.mounts)
      if (m.writable) return fail(ErrorCode::unsupported, "microvm: writable mounts are not built yet");

    const auto started = Clock::now();
    IGNITE_TRY_ASSIGN(SharedPlan shared, shared_plan(spec));
    IGNITE_TRY_ASSIGN(sys::TempDir dir, sys::TempDir::create(c_.scratch_root, "microvm-"));
    // QEMU's option syntax splits at commas: our own dir, but never let one through.
    if (dir.path().string().find(',') != std::string::npos)
      return fail(ErrorCode::internal, "microvm: the scratch dir's path holds a comma");
    VmPlan plan{.qemu = c_.qemu,
                .kernel = c_.kernel,
                .initramfs = dir.path() / "initramfs.cpio",
                .share = dir.path() / "share",
                .socket = dir.path() / "agent.sock",
                .console = dir.path() / "console.log",
                .memory_mib = vm_memory_mib(spec.limits.memory_bytes),
                .cpus = std::clamp(static_cast<unsigned>(std::ceil(spec.limits.cpu_cores)), 1u, c_.max_cpus),
                .tsc_khz = c_.tsc_khz,
                .kvm = c_.kvm,
                .runas = {}};
    IGNITE_TRY_ASSIGN(std::string agent, sys::read_file(c_.agent, 64u << 20));
    {
      std::ofstream f(plan.initramfs, std::ios::binary);
      f << agent_initramfs(agent);
      if (!f.flush()) return fail(ErrorCode::internal, "microvm: cannot write the initramfs");
    }
    std::error_code ec;
    if (!fs::create_directory(plan.share, ec)) return fail(ErrorCode::internal, "microvm: cannot make the share dir");
    IGNITE_TRY_ASSIGN(sys::ChildProcess qemu, spawn(qemu_argv(plan), plan.console, plan.share, shared.share));
    VmParts vm{std::move(dir), std::move(qemu), sys::Fd(), guest::FrameReader(guest::kMaxGuestFrameBytes), started, c_.kill_grace};
    const auto boot_deadline = started + c_.boot_timeout;
    auto channel = connect_agent(plan.socket, vm.qemu, boot_deadline);
    if (!channel) return boot_failed(vm, plan, channel.error().message);
    vm.channel = std::move(*channel);
    auto hello = next_message(vm, boot_deadline);
    if (!hello) return boot_failed(vm, plan, hello.error().message);
    if (hello->type == "error") return boot_failed(vm, plan, "the agent failed: " + hello->data);
    if (hello->type != "hello") return boot_failed(vm, plan, "the agent's first frame is '" + hello->type + "'");
    SandboxSpec kept = spec;
    kept.stdin_data.clear();
    return std::unique_ptr<Slot>(std::make_unique<MicroVmSlot>(std::move(vm), std::move(kept), std::move(shared)));
  }

 private:
  Unexpected boot_failed(const VmParts& vm, const VmPlan& plan, const std::string& why) {
    spdlog::warn("microvm: the VM did not come up: {}; console:\n{}", why, console_tail(plan.console));
    (void)vm;
    return fail(ErrorCode::unavailable, "microvm: the VM did not come up: " + why);
  }

  MicroVmConfig c_;
};

}  // namespace

bool hardware_kvm() {
  std::error_code ec;
  return (fs::exists("/sys/module/kvm_intel", ec) || fs::exists("/sys/module/kvm_amd", ec)) &&
         ::access("/dev/kvm", R_OK | W_OK) == 0;
}

Result<MicroVmConfig> detect_microvm_config(const fs::path& scratch_root) {
  MicroVmConfig c;
  c.scratch_root = scratch_root;
  auto qemu = on_path("qemu-system-x86_64");
  if (!qemu) return fail(ErrorCode::unavailable, "microvm: qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)");
  c.qemu = *qemu;
  auto kernel = guest_kernel();
  if (!kernel || ::access(kernel->c_str(), R_OK) != 0)
    return fail(ErrorCode::unavailable, "microvm: no guest kernel (build it with scripts/guest-kernel, or set IGNITE_GUEST_KERNEL)");
  c.kernel = *kernel;
  auto agent = agent_binary();
  if (!agent)
    return fail(ErrorCode::unavailable,
                "microvm: ignite-guest-agent is not installed next to ignite (it is built with it; $IGNITE_GUEST_AGENT names another)");
  c.agent = *agent;
  c.tsc_khz = tsc_khz();
  c.kvm = hardware_kvm();
  c.max_cpus = std::max(1u, std::thread::hardware_concurrency());
  return c;
}

Result<std::unique_ptr<Backend>> make_microvm_backend(MicroVmConfig config) {
  if (!config.kvm)
    spdlog::warn("microvm: no hardware KVM here (kvm_intel/kvm_amd not loaded): QEMU emulates (TCG), "
                 "tens of times slower; for testing only");
  return std::unique_ptr<Backend>(std::make_unique<MicroVmBackend>(std::move(config)));
}

}  // namespace ignite::sandbox::microvm
