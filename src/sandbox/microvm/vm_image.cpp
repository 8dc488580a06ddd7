#include "sandbox/microvm/vm_image.hpp"

#include <sys/stat.h>

#include <cstdio>
#include <map>

#include "guest/guest_modules.hpp"
#include "guest/protocol.hpp"

namespace ignite::sandbox::microvm {
namespace {

// Memory the guest needs besides the job: kernel and agent (~30 MiB), the 9p page cache of the
// runtime's files, the job root's tmpfs (inline files).
constexpr std::uint64_t kGuestOverheadMib = 192;

void hex8(std::string& out, std::uint32_t v) {
  char buf[9];
  std::snprintf(buf, sizeof buf, "%08X", v);
  out.append(buf, 8);
}

void pad4(std::string& out) {
  while (out.size() % 4 != 0) out.push_back('\0');
}

void record(std::string& out, std::uint32_t ino, const std::string& name, std::uint32_t mode, std::string_view content,
            std::uint32_t rmaj, std::uint32_t rmin) {
  out += "070701";
  hex8(out, ino);
  hex8(out, mode);
  hex8(out, 0);  // uid
  hex8(out, 0);  // gid
  hex8(out, S_ISDIR(mode) ? 2 : 1);  // nlink
  hex8(out, 0);  // mtime: fixed, so the archive is the same bytes for the same agent
  hex8(out, static_cast<std::uint32_t>(content.size()));
  hex8(out, 0);  // dev major
  hex8(out, 0);  // dev minor
  hex8(out, rmaj);
  hex8(out, rmin);
  hex8(out, static_cast<std::uint32_t>(name.size() + 1));
  hex8(out, 0);  // check
  out += name;
  out.push_back('\0');
  pad4(out);
  out.append(content);
  pad4(out);
}

}  // namespace

std::string cpio_newc(const std::vector<CpioEntry>& entries) {
  std::string out;
  std::uint32_t ino = 1;
  for (const auto& e : entries)
    record(out, ino++, e.path, e.mode, S_ISREG(e.mode) ? std::string_view(e.content) : std::string_view(),
           e.rdev_major, e.rdev_minor);
  record(out, 0, "TRAILER!!!", 0, {}, 0, 0);
  return out;
}

std::string agent_initramfs(std::string_view agent_binary, const std::vector<InitramfsFile>& modules) {
  std::vector<CpioEntry> entries;
  for (const char* dir : {"dev", "proc", "sys", "host", "job", "tmp"}) entries.push_back({dir, S_IFDIR | 0755, {}});
  // The kernel opens /dev/console for init's stdio before anything is mounted.
  entries.push_back({"dev/console", S_IFCHR | 0600, {}, 5, 1});
  entries.push_back({"init", S_IFREG | 0755, std::string(agent_binary)});
  if (!modules.empty()) {
    const std::string dir = std::string(guest::kModulesDir).substr(1);
    entries.push_back({dir, S_IFDIR | 0755, {}});
    for (const auto& m : modules) entries.push_back({dir + "/" + m.name, S_IFREG | 0644, m.content});
  }
  return cpio_newc(entries);
}

Result<SharedPlan> shared_plan(const SandboxSpec& spec, const std::map<std::string, std::string>& premade) {
  SharedPlan out;
  IGNITE_TRY_ASSIGN(native::MountPlan plan, native::build_mount_plan(spec, "/job", out.id));
  std::map<std::string, std::string> names;
  for (auto& op : plan.ops) {
    // Writable binds are the device nodes (/dev/null, ...): the guest's own, not shared.
    if (op.kind != native::OpKind::bind || op.writable) continue;
    if (const auto on_disk = premade.find(op.source); on_disk != premade.end()) {
      op.source = on_disk->second;
      continue;
    }
    auto [it, added] = names.try_emplace(op.source, std::to_string(names.size()));
    if (added) {
      struct stat st {};
      if (::stat(op.source.c_str(), &st) != 0)
        return fail(ErrorCode::invalid_argument, "mount source does not exist: " + op.source);
      out.share.push_back({op.source, it->second, S_ISDIR(st.st_mode)});
    }
    op.source = std::string(kGuestShare) + "/" + it->second;
  }
  out.ops = std::move(plan.ops);
  return out;
}

std::uint64_t vm_memory_mib(std::uint64_t job_memory_bytes) {
  return (job_memory_bytes + (1ull << 20) - 1) / (1ull << 20) + kGuestOverheadMib;
}

std::string agent_boot_args(const VmPlan& p, std::uint32_t vsock_port) {
  std::string args = std::string(guest::kShareArg) + (p.share_disks.empty() ? "9p" : "disks");
  if (vsock_port) args += " " + std::string(guest::kVsockArg) + std::to_string(vsock_port);
  if (p.network) args += " " + std::string(guest::kNetArg) + "user";
  return args;
}

std::string vmm_path(const std::filesystem::path& path, const std::filesystem::path& cwd) {
  if (cwd.empty()) return path.string();
  const std::filesystem::path rel = path.lexically_relative(cwd);
  if (rel.empty() || *rel.begin() == "..") return path.string();
  return rel.string();
}

std::vector<std::string> qemu_argv(const VmPlan& p) {
  auto at = [&](const std::filesystem::path& path) { return vmm_path(path, p.cwd); };
  std::string append = "console=ttyS0 quiet loglevel=1 panic=-1 reboot=t cgroup_no_v1=all rdinit=/init " +
                       agent_boot_args(p);
  // Without it, microvm boots under TCG hang at random in TSC calibration (measured).
  if (p.tsc_khz) append += " tsc_early_khz=" + std::to_string(p.tsc_khz);
  std::string machine = std::string("microvm,pit=on,pic=on,rtc=on,acpi=") + (p.acpi ? "on" : "off");
  if (!p.ram_file.empty()) machine += ",memory-backend=ram0";
  std::vector<std::string> argv{
      p.qemu.string(),
      "-M", machine,
      "-accel", p.kvm ? "kvm" : "tcg",
      "-cpu", p.kvm ? "host" : "max",
      "-m", std::to_string(p.memory_mib),
      "-smp", std::to_string(p.cpus),
      // Security: no default devices, no user config, no network device unless the run has the
      // network (-nic none): the guest has a serial console, an RNG, the read-only root share
      // and the agent port.
      "-nodefaults", "-no-user-config", "-nographic", "-no-reboot",
      // Security: QEMU itself is the next boundary after the guest kernel: it runs under its
      // own seccomp filter (no exec, no obsolete calls, no resource changes).
      // (It starts unprivileged when jailed, vmm_jail.hpp: no setuid of its own to allow.)
      "-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny",
      "-serial", "file:" + at(p.console),
      "-kernel", at(p.kernel),
      "-initrd", at(p.initramfs),
      "-append", append,
      "-device", "virtio-rng-device",
      "-chardev", "socket,id=agent,path=" + at(p.socket) + ",server=on,wait=off",
      "-device", "virtio-serial-device",
      "-device", "virtserialport,chardev=agent,name=ignite.agent",
  };
  if (p.network) {
    // Security: QEMU's own user-mode network (slirp) is never used: its gateway is the host's
    // loopback. The NIC's frames go over a socket to passt (user_network.hpp), which maps
    // nothing to the host's loopback and forwards nothing in.
    argv.insert(argv.end(), {"-netdev", "stream,id=net0,server=off,addr.type=fd,addr.str=" + std::to_string(p.network_fd),
                             "-device", "virtio-net-device,netdev=net0"});
  } else {
    argv.insert(argv.end(), {"-nic", "none"});
  }
  if (p.share_disks.empty()) {
    // Security: only the plan's sources (the share dir), read-only as QEMU enforces it
    // (readonly=on), so a guest kernel the program took over can neither write the host nor
    // read anything of it beyond what the run was given.
    argv.insert(argv.end(), {"-fsdev", "local,id=hostroot,path=" + at(p.share) +
                                           ",security_model=none,readonly=on,multidevs=remap",
                             "-device", "virtio-9p-device,fsdev=hostroot,mount_tag=hostroot"});
  }
  // The same promise on disks: images of those sources alone, attached read-only.
  for (std::size_t i = 0; i < p.share_disks.size(); ++i) {
    const std::string id = "share" + std::to_string(i);
    argv.insert(argv.end(), {"-drive", "file=" + at(p.share_disks[i]) + ",if=none,id=" + id +
                                           ",format=raw,readonly=on",
                             "-device", "virtio-blk-device,drive=" + id});
  }
  if (!p.ram_file.empty())
    argv.insert(argv.end(), {"-object", "memory-backend-file,id=ram0,size=" + std::to_string(p.memory_mib) +
                                            "M,mem-path=" + at(p.ram_file) + ",share=" + (p.ram_shared ? "on" : "off")});
  if (!p.qmp.empty()) argv.insert(argv.end(), {"-qmp", "unix:" + at(p.qmp) + ",server=on,wait=off"});
  if (p.incoming) argv.insert(argv.end(), {"-incoming", "defer"});
  return argv;
}

}  // namespace ignite::sandbox::microvm
