#include "sandbox/microvm/microvm_backend.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <thread>

#include <spdlog/spdlog.h>

#include "docker/runtime_image.hpp"
#include "guest/protocol.hpp"
#include "runtime/catalog.hpp"
#include "sandbox/microvm/firecracker_vmm.hpp"
#include "sandbox/microvm/microvm_slot.hpp"
#include "sandbox/microvm/share_image.hpp"
#include "sandbox/microvm/user_network.hpp"
#include "sandbox/microvm/vm_image.hpp"
#include "sandbox/microvm/vm_template.hpp"
#include "sandbox/microvm/vmm_jail.hpp"
#include "sandbox/microvm/vmm_process.hpp"
#include "sandbox/microvm/warm_handoff.hpp"
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

// A VMM binary by its real path: a jailed VMM's root holds that file (vmm_root.hpp), where a
// link to it (/bin on a merged /usr, a versioned install) may not lead. Not for tools that
// act on the name they are called by (sqfstar is a link to mksquashfs).
fs::path real_path(const fs::path& binary) {
  std::error_code ec;
  const fs::path real = fs::canonical(binary, ec);
  return ec ? binary : real;
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

// The initramfs: our agent as /init, and a stock kernel's modules (vm_image.hpp), written where
// the plan says.
Status write_initramfs(const MicroVmConfig& c, const fs::path& to) {
  IGNITE_TRY_ASSIGN(std::string agent, sys::read_file(c.agent, 64u << 20));
  std::vector<InitramfsFile> modules;
  for (const auto& m : c.kernel_modules) {
    IGNITE_TRY_ASSIGN(std::string bytes, sys::read_file(m, 64u << 20));
    modules.push_back({m.filename().string(), std::move(bytes)});
  }
  std::ofstream f(to, std::ios::binary);
  f << agent_initramfs(agent, modules);
  if (!f.flush()) return fail(ErrorCode::internal, "microvm: cannot write the initramfs");
  return ok();
}

class MicroVmBackend final : public Backend {
 public:
  explicit MicroVmBackend(MicroVmConfig config) : c_(std::move(config)), jailer_(c_.jail) {}
  std::string_view name() const noexcept override { return "microvm"; }

  Result<std::unique_ptr<Slot>> start(const SandboxSpec& spec) override {
    IGNITE_TRY(validate(spec, c_.ceilings));
    if (spec.egress)
      return fail(ErrorCode::unsupported, "microvm: an install's egress proxy is not built for VMs (installs run on native)");
    if (spec.limits.network && c_.vmm == Vmm::firecracker)
      return fail(ErrorCode::unsupported,
                  "microvm: network under firecracker needs a tap device on the host, not built (IGNITE_VMM=qemu has it)");
    if (spec.limits.network && c_.passt.empty())
      return fail(ErrorCode::unsupported,
                  "microvm: `network: true` needs passt, the VM's user-mode network (apt-get install passt)");
    for (const auto& m : spec.mounts)
      if (m.writable) return fail(ErrorCode::unsupported, "microvm: writable mounts are not built yet");

    const auto started = Clock::now();
    auto deadline = started + c_.boot_timeout;
    const bool on_disks = c_.share_disks || c_.vmm == Vmm::firecracker || !c_.kernel_modules.empty();
    const std::shared_ptr<const RuntimeDisk> runtime_disk = on_disks ? runtime_disk_for(spec, deadline) : nullptr;
    IGNITE_TRY_ASSIGN(sys::TempDir dir, sys::TempDir::create(c_.scratch_root, "microvm-"));
    // QEMU's option syntax splits at commas: our own dir, but never let one through.
    if (dir.path().string().find(',') != std::string::npos)
      return fail(ErrorCode::internal, "microvm: the scratch dir's path holds a comma");
    // Sources the VM's disks or its agent provide: the runtime disk's, and a warm slot's drop
    // dirs, which the agent makes in the guest (the host dirs only stage the job's files).
    std::map<std::string, std::string> premade = runtime_disk ? runtime_disk->sources : std::map<std::string, std::string>{};
    SandboxSpec planned = spec;
    std::vector<fs::path> drop_hosts;
    for (std::size_t i = 0; i < spec.drop_dirs.size(); ++i) {
      const fs::path host = dir.path() / ("drop-" + std::to_string(i));
      if (::mkdir(host.c_str(), 0700) != 0) return fail(Error::from_errno("mkdir " + host.string()));
      drop_hosts.push_back(host);
      planned.mounts.push_back({host, spec.drop_dirs[i], false, true});
      premade[host.string()] = guest_drop_dir(i);
    }
    IGNITE_TRY_ASSIGN(SharedPlan shared, shared_plan(planned, premade));
    if (spec.limits.network) IGNITE_TRY(use_guest_resolver(shared, dir.path()));
    VmPlan plan;
    plan.qemu = c_.qemu;
    plan.kernel = c_.kernel;
    plan.initramfs = dir.path() / "initramfs.cpio";
    plan.share = dir.path() / "share";
    plan.socket = dir.path() / "agent.sock";
    plan.console = dir.path() / "console.log";
    plan.memory_mib = vm_memory_mib(spec.limits.memory_bytes);
    plan.cpus = std::clamp(static_cast<unsigned>(std::ceil(spec.limits.cpu_cores)), 1u, c_.max_cpus);
    plan.tsc_khz = c_.tsc_khz;
    plan.kvm = c_.kvm;
    plan.network = spec.limits.network;
    plan.acpi = !c_.kernel_modules.empty();
    IGNITE_TRY_ASSIGN(VmmJail jail, jailer_.make(dir.path(), vmm_limits(plan.memory_mib, plan.cpus, c_.kvm)));
    jail.needs_kvm(c_.kvm || c_.vmm == Vmm::firecracker);
    auto network = plan.network ? start_user_network(c_.passt, dir.path() / "network.log") : UserNetwork{};
    if (!network) return fail(std::move(network).error());
    if (plan.network) plan.network_fd = jail.pass_fd(std::move(network->vmm_end));
    std::error_code ec;
    if (!fs::create_directory(plan.share, ec)) return fail(ErrorCode::internal, "microvm: cannot make the share dir");
    SandboxSpec kept = spec;
    kept.stdin_data.clear();
    guest::FrameReader reader(guest::kMaxGuestFrameBytes);
    auto slot = [&](sys::ChildProcess qemu, sys::Fd channel) -> Result<std::unique_ptr<Slot>> {
      VmParts vm{std::move(dir), std::move(jail), std::move(qemu), std::move(channel), std::move(reader), started,
                 c_.kill_grace, std::move(network->passt)};
      auto made = std::make_unique<MicroVmSlot>(std::move(vm), std::move(kept), std::move(shared), std::move(drop_hosts));
      // A warm slot's bootstrap gets a start's own budget (a runtime loads in seconds under TCG).
      if (spec.warm) IGNITE_TRY(made->warm_up(Clock::now() + c_.boot_timeout));
      return std::unique_ptr<Slot>(std::move(made));
    };

    if (on_disks) {
      // The image has the boot's budget, and the boot then gets its whole own (a runtime's
      // libraries take tens of seconds to copy on a loaded disk).
      if (runtime_disk) plan.share_disks.push_back(runtime_disk->image);
      if (!shared.share.empty() || !runtime_disk) IGNITE_TRY(share_on_disk(plan, dir.path(), shared.share, deadline));
      deadline = Clock::now() + c_.boot_timeout;
    }
    if (c_.vmm == Vmm::firecracker) {
      IGNITE_TRY(write_initramfs(c_, plan.initramfs));
      const FirecrackerFiles files{dir.path() / "api.sock", dir.path() / "vsock.sock", plan.console};
      IGNITE_TRY_ASSIGN(const VmPlan jailed, jail.inputs(plan));
      auto vm = boot_firecracker(c_.firecracker, firecracker_plan(jailed, files.vsock), files, jail, deadline);
      if (!vm) return boot_failed(plan, vm.error().message);
      if (auto hello = await_hello(vm->channel.get(), vm->vmm, reader, deadline); !hello)
        return boot_failed(plan, hello.error().message);
      return slot(std::move(vm->vmm), std::move(vm->channel));
    }
    const bool from_template = c_.templates && plan.share_disks.empty() && !plan.network;
    if (const VmTemplate* tmpl = from_template ? template_for(plan, deadline) : nullptr) {
      plan.qmp = dir.path() / "qmp.sock";
      auto clone = tmpl->restore(plan, shared.share, jail, deadline);
      if (!clone) return boot_failed(plan, "restoring from its template: " + clone.error().message);
      return slot(std::move(clone->qemu), std::move(clone->channel));
    }

    IGNITE_TRY(write_initramfs(c_, plan.initramfs));
    IGNITE_TRY_ASSIGN(const VmPlan jailed, jail.inputs(plan));
    IGNITE_TRY_ASSIGN(sys::ChildProcess qemu, spawn_qemu(jailed, shared.share, jail));
    auto channel = agent_hello(plan.socket, qemu, reader, deadline);
    if (!channel) return boot_failed(plan, channel.error().message);
    return slot(std::move(qemu), std::move(*channel));
  }

 private:
  Unexpected boot_failed(const VmPlan& plan, const std::string& why) {
    spdlog::warn("microvm: the VM did not come up: {}; console:\n{}", why, console_tail(plan.console));
    return fail(ErrorCode::unavailable, "microvm: the VM did not come up: " + why);
  }

  // A `network: true` guest asks passt's DNS forward, which resolves as the host does: the
  // host's resolv.conf may name a resolver on the host's loopback (systemd-resolved's
  // 127.0.0.53), which is the guest's own loopback there. The plan's bind of it takes a file
  // of the VM's dir instead.
  static Status use_guest_resolver(SharedPlan& shared, const fs::path& dir) {
    const fs::path resolver = dir / "resolv.conf";
    IGNITE_TRY(sys::write_new_file(resolver, "nameserver " + std::string(guest::kGuestNameserver) + "\n"));
    std::error_code ec;
    const fs::path real = fs::canonical("/etc/resolv.conf", ec);
    for (auto& entry : shared.share)
      if (entry.source == "/etc/resolv.conf" || (!ec && entry.source == real.string())) entry.source = resolver.string();
    return ok();
  }

  Status share_on_disk(VmPlan& plan, const fs::path& dir, const std::vector<ShareEntry>& entries, Deadline deadline) {
    if (c_.mksquashfs.empty())
      return fail(ErrorCode::unavailable,
                  "microvm: the VM's share goes on a disk image and mksquashfs is not installed (apt-get install squashfs-tools)");
    const ShareImage how{c_.mksquashfs, plan.share, dir / "share.sqfs", dir / "mksquashfs.log"};
    IGNITE_TRY(build_share_image(how, entries, deadline));
    plan.share_disks.push_back(how.image);
    return ok();
  }

  // The disk of the spec's runtime (its runtime_image label), found or built once per process
  // and runtime; nullptr when there is none to have (no runtime, sqfstar missing, the build
  // failed: logged once), and then the VM's own image holds the runtime's files too. Shared, so
  // a start that holds it is not disturbed when another drops the entry.
  std::shared_ptr<const RuntimeDisk> runtime_disk_for(const SandboxSpec& spec, Deadline deadline) {
    if (spec.runtime_image.empty() || !spec.image.empty() || c_.runtime_disks.dir.empty()) return nullptr;
    std::lock_guard lock(disks_mu_);
    if (auto it = disks_.find(spec.runtime_image); it != disks_.end()) {
      // Still there? Another process may have replaced it (the runtime changed, and a rebuild
      // removed the old disk): then it is looked for, or built, again.
      std::error_code ec;
      if (!it->second || fs::exists(it->second->image, ec)) return it->second;
      disks_.erase(it);
    }
    auto made = [&]() -> Result<RuntimeDisk> {
      const runtime::Catalog catalog(runtime::default_roots());
      IGNITE_TRY_ASSIGN(const runtime::Installed rt, docker::image_runtime(spec.runtime_image, catalog));
      return ensure_runtime_disk(c_.runtime_disks, rt, false, deadline);
    }();
    if (!made) spdlog::warn("microvm: no runtime disk for {}, each VM copies its files: {}", spec.runtime_image,
                            made.error().message);
    auto& entry = disks_[spec.runtime_image];
    if (made) entry = std::make_shared<const RuntimeDisk>(std::move(*made));
    return entry;
  }

  // The template of VMs shaped like `plan` (memory, vCPUs), made on first use (a boot and a save,
  // ~1.3 s under TCG) under one lock: starts that come meanwhile wait for it, whatever their
  // shape. nullptr when it cannot be made here: logged once, and every VM of that shape then
  // boots (slower, the same result).
  const VmTemplate* template_for(const VmPlan& plan, Deadline deadline) {
    std::lock_guard lock(templates_mu_);
    const auto key = std::make_pair(plan.memory_mib, plan.cpus);
    if (auto it = templates_.find(key); it != templates_.end()) return it->second.get();
    auto made = [&]() -> Result<std::unique_ptr<VmTemplate>> {
      IGNITE_TRY_ASSIGN(sys::TempDir dir, sys::TempDir::create(c_.scratch_root, "template-"));
      VmPlan base = plan;
      base.initramfs = dir.path() / "initramfs.cpio";
      IGNITE_TRY(write_initramfs(c_, base.initramfs));
      IGNITE_TRY_ASSIGN(VmmJail jail, jailer_.make(dir.path(), vmm_limits(base.memory_mib, base.cpus, c_.kvm)));
      jail.needs_kvm(c_.kvm);
      return VmTemplate::make(std::move(base), std::move(dir), std::move(jail), deadline);
    }();
    if (!made) spdlog::warn("microvm: no template for {} MiB / {} vCPU VMs, they boot instead: {}", key.first, key.second,
                            made.error().message);
    auto& entry = templates_[key];
    if (made) entry = std::move(*made);
    return entry.get();
  }

  MicroVmConfig c_;
  VmmJailer jailer_;
  std::mutex disks_mu_;
  std::map<std::string, std::shared_ptr<const RuntimeDisk>> disks_;  // by runtime label; null: none to have
  std::mutex templates_mu_;
  // By (memory MiB, vCPUs); a null entry: making it failed, VMs of that shape boot.
  std::map<std::pair<std::uint64_t, unsigned>, std::unique_ptr<VmTemplate>> templates_;
};

}  // namespace

bool hardware_kvm() {
  std::error_code ec;
  return (fs::exists("/sys/module/kvm_intel", ec) || fs::exists("/sys/module/kvm_amd", ec)) &&
         ::access("/dev/kvm", R_OK | W_OK) == 0;
}

namespace {

// Which VMM boots the VMs here, and why; its binary set in `c`. Unasked, QEMU where it is
// installed: it shares the run's sources over 9p and restores VMs from templates, while
// Firecracker copies them into each VM's disk image (seconds for a runtime's libraries) until
// runtime images are cached. Firecracker, then, when asked or when it is all there is.
Status choose_vmm(MicroVmConfig& c) {
  const char* asked = std::getenv("IGNITE_VMM");
  const std::string want = asked ? asked : "";
  if (want != "" && want != "qemu" && want != "firecracker")
    return fail(ErrorCode::invalid_argument, "microvm: IGNITE_VMM is '" + want + "'; it takes qemu or firecracker");
  std::optional<fs::path> firecracker;
  if (const char* f = std::getenv("IGNITE_FIRECRACKER"); f && *f) {
    if (::access(f, X_OK) != 0)
      return fail(ErrorCode::unavailable, "microvm: IGNITE_FIRECRACKER names no executable file: " + std::string(f));
    firecracker = fs::path(f);
  } else {
    firecracker = on_path("firecracker");
  }
  const auto qemu = want == "firecracker" ? std::nullopt : on_path("qemu-system-x86_64");
  if (want == "firecracker" || (want.empty() && !qemu && firecracker && c.kvm)) {
    const std::string who = want.empty() ? "no QEMU, so Firecracker" : "IGNITE_VMM=firecracker";
    if (!firecracker)
      return fail(ErrorCode::unavailable, "microvm: " + who + ", and no firecracker binary (put it on PATH or set IGNITE_FIRECRACKER)");
    if (!c.kvm)
      return fail(ErrorCode::unavailable, "microvm: " + who + ", and this host has no hardware KVM (kvm_intel/kvm_amd): "
                                          "Firecracker cannot run without it (leave IGNITE_VMM unset for QEMU)");
    if (c.mksquashfs.empty())
      return fail(ErrorCode::unavailable, "microvm: " + who + ", which gets the VM's share as a disk image, and mksquashfs "
                                          "is not installed (apt-get install squashfs-tools)");
    c.vmm = Vmm::firecracker;
    c.firecracker = real_path(*firecracker);
    c.vmm_reason = want.empty() ? "no QEMU; firecracker and hardware KVM are here" : "IGNITE_VMM=firecracker";
    return ok();
  }
  if (!qemu) return fail(ErrorCode::unavailable, "microvm: qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)");
  c.vmm = Vmm::qemu;
  c.qemu = real_path(*qemu);
  c.vmm_reason = !want.empty() ? "IGNITE_VMM=qemu"
                 : firecracker && c.kvm
                     ? "the default; IGNITE_VMM=firecracker picks the firecracker found here"
                     : "the default";
  return ok();
}

}  // namespace

fs::path guest_cache_dir() {
  const char* cache = std::getenv("IGNITE_GUEST_CACHE");
  return cache && *cache ? fs::path(cache) : fs::path("/var/cache/ignite/guest");
}

RuntimeDiskCache runtime_disk_cache() {
  RuntimeDiskCache cache;
  cache.dir = guest_cache_dir() / "runtimes";
  if (auto sqfstar = on_path("sqfstar")) cache.sqfstar = *sqfstar;
  return cache;
}

namespace {

// The newest <prefix>*/<image> in the guest cache.
std::optional<fs::path> newest_cached(std::string_view prefix, std::string_view image) {
  std::optional<fs::path> newest;
  fs::file_time_type newest_time{};
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(guest_cache_dir(), ec)) {
    if (e.path().filename().string().rfind(prefix, 0) != 0) continue;
    const auto path = e.path() / image;
    const auto t = fs::last_write_time(path, ec);
    if (ec) continue;
    if (!newest || t > newest_time) newest = path, newest_time = t;
  }
  return newest;
}

// A stock kernel's modules: modules/*.ko beside it, in name (load) order.
std::vector<fs::path> modules_beside(const fs::path& kernel) {
  std::vector<fs::path> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(kernel.parent_path() / "modules", ec))
    if (e.path().extension() == ".ko") out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

std::optional<fs::path> guest_kernel() {
  if (const char* k = std::getenv("IGNITE_GUEST_KERNEL"); k && *k) return fs::path(k);
  if (auto built = newest_cached("kernel-", "vmlinux")) return built;
  return newest_cached("debian-", "vmlinuz");
}


Result<MicroVmConfig> detect_microvm_config(const fs::path& scratch_root) {
  MicroVmConfig c;
  c.scratch_root = scratch_root;
  c.kvm = hardware_kvm();
  if (auto mksquashfs = on_path("mksquashfs")) c.mksquashfs = *mksquashfs;
  if (auto passt = on_path("passt")) c.passt = *passt;
  c.runtime_disks = runtime_disk_cache();
  IGNITE_TRY(choose_vmm(c));
  auto kernel = guest_kernel();
  if (!kernel || ::access(kernel->c_str(), R_OK) != 0)
    return fail(ErrorCode::unavailable, "microvm: no guest kernel (build it with scripts/guest-kernel, or set IGNITE_GUEST_KERNEL)");
  c.kernel = *kernel;
  c.kernel_modules = modules_beside(c.kernel);
  if (c.vmm == Vmm::firecracker && !c.kernel_modules.empty())
    return fail(ErrorCode::unavailable, "microvm: Firecracker needs Ignite's guest kernel (scripts/guest-kernel): " +
                                            c.kernel.string() + " is a stock kernel, which finds its devices only in ACPI tables");
  auto agent = agent_binary();
  if (!agent)
    return fail(ErrorCode::unavailable,
                "microvm: ignite-guest-agent is not installed next to ignite (it is built with it; $IGNITE_GUEST_AGENT names another)");
  c.agent = *agent;
  c.tsc_khz = tsc_khz();
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
