// ignite-guest-agent: PID 1 of a microvm guest (the initramfs's /init). Mounts what the guest
// needs, says hello to the host over its channel (host_link.hpp), receives one job, runs it
// (agent_job.cpp) in a root built from the job's mount plan (a warm job: its program first,
// then its files and stdin from the host's handoff frame), sends the result
// and powers the VM off. The VM is single use: every path ends in a power-off, so the host
// never waits on a guest that lost its agent (and kills QEMU at its own deadline anyway).
#include <fcntl.h>
#include <sys/mount.h>
#include <linux/random.h>
#include <sys/ioctl.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string>

#include "guest/agent_job.hpp"
#include "guest/guest_modules.hpp"
#include "guest/guest_network.hpp"
#include "guest/host_link.hpp"
#include "guest/protocol.hpp"
#include "sys/write_all.hpp"

namespace {

using namespace ignite;
using namespace ignite::guest;

void log(const std::string& line) {
  const int fd = ::open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) return;
  const std::string text = "ignite-agent: " + line + "\n";
  (void)::write(fd, text.data(), text.size());
  ::close(fd);
}

[[noreturn]] void power_off() {
  ::sync();
  // The kernel runs with reboot=t and QEMU with -no-reboot: a reboot ends QEMU (microvm has no
  // ACPI power-off with our kernel).
  ::reboot(RB_AUTOBOOT);
  for (;;) ::pause();
}

void mount_or_log(const char* source, const char* target, const char* type, unsigned long flags, const char* data) {
  ::mkdir(target, 0755);
  if (::mount(source, target, type, flags, data) != 0) log(std::string("mount ") + target + ": " + std::strerror(errno));
}

// The next whole frame from the host; an error when the stream ends or breaks the protocol.
Result<Message> receive(const HostChannel& host) {
  for (;;) {
    IGNITE_TRY_ASSIGN(std::optional<std::string> frame, host.reader->next());
    if (frame) return decode(*frame);
    IGNITE_TRY(read_host(host));
  }
}

// A guest restored from a template resumes with the template's kernel state: its CRNG, its
// clock. Before anything of the job runs, the host's seed goes into the input pool (credited, so
// the kernel takes it as entropy) and the CRNG is reseeded from it; the clock is set to the
// host's. Both as root, before the program exists.
Status take_host_state(const JobMessage& job) {
  const int fd = ::open("/dev/urandom", O_WRONLY | O_CLOEXEC);
  if (fd < 0) return fail(Error::from_errno("open /dev/urandom"));
  std::string info(sizeof(rand_pool_info) + job.seed.size(), '\0');
  auto* pool = reinterpret_cast<rand_pool_info*>(info.data());
  pool->entropy_count = static_cast<int>(job.seed.size() * 8);
  pool->buf_size = static_cast<int>(job.seed.size());
  std::memcpy(pool->buf, job.seed.data(), job.seed.size());
  const bool added = ::ioctl(fd, RNDADDENTROPY, pool) == 0;
  const int add_err = errno;
  const bool reseeded = added && ::ioctl(fd, RNDRESEEDCRNG) == 0;
  const int reseed_err = errno;
  ::close(fd);
  if (!added) return fail(Error::from_errno("add the host's seed", add_err));
  if (!reseeded) return fail(Error::from_errno("reseed the CRNG", reseed_err));
  const timespec now{static_cast<time_t>(job.realtime_ns / 1000000000u), static_cast<long>(job.realtime_ns % 1000000000u)};
  if (::clock_settime(CLOCK_REALTIME, &now) != 0) return fail(Error::from_errno("set the clock"));
  return ok();
}

}  // namespace

int main() {
  mount_or_log("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
  mount_or_log("sys", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
  mount_or_log("dev", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
  mount_or_log("cgroup2", "/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, nullptr);
  // The job's memory limit is its cgroup's, as on native; the guest's RAM (the limit plus the
  // guest's overhead) must not refuse an allocation first: the kernel's default heuristic would
  // fail a 512 MiB mmap in a 256 MiB guest, which a host with more RAM grants and the cgroup
  // then ends as memory_limit.
  if (const int fd = ::open("/proc/sys/vm/overcommit_memory", O_WRONLY | O_CLOEXEC); fd >= 0) {
    if (::write(fd, "1", 1) != 1) log("vm.overcommit_memory: " + std::string(std::strerror(errno)));
    ::close(fd);
  }

  std::string cmdline;
  std::getline(std::ifstream("/proc/cmdline"), cmdline);
  // A stock kernel's drivers (its initramfs has them): before any device is looked for.
  for (const auto& failed : load_modules(kModulesDir, cmdline)) log("module " + failed);
  const BootArgs boot = parse_boot_args(cmdline);
  auto channel = open_host_channel(boot);
  if (!channel) {
    log(channel.error().message);
    power_off();
  }
  const int fd = channel->get();
  const Send send = [fd](const std::string& frame) { return sys::write_all(fd, frame); };
  auto fail_run = [&](const std::string& why) {
    log(why);
    send(error_frame(why));
    power_off();
  };

  // Before the hello: a template is saved after it, and a network run never comes from one.
  if (boot.network)
    if (auto up = bring_up_user_network(); !up) fail_run(up.error().message);
  if (!send(hello_frame())) fail_run("the host is gone");

  // A template is saved here, blocked in this read: nothing of a job, and the share not mounted
  // yet (QEMU refuses to migrate a guest with a 9p export mounted).
  FrameReader reader;
  const HostChannel host{fd, &reader, boot.vsock_port != 0};
  auto message = receive(host);
  if (!message) fail_run("no job: " + message.error().message);
  if (message->type != "job" || !message->job) fail_run("expected a job, got '" + message->type + "'");
  const JobMessage& job = *message->job;
  if (auto taken = take_host_state(job); !taken) fail_run(taken.error().message);

  if (auto share = mount_host_share(boot, "/host"); !share) fail_run(share.error().message);

  ResultMessage result = run_job(job, send, host);
  if (result.outcome == "error") fail_run(result.detail);
  send(result_frame(result));
  power_off();
}
