#include "sandbox/native/seccomp_filter.hpp"

#include <linux/sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <memory>
#include <sstream>

#include "sys/fd.hpp"
#include "sys/files.hpp"

namespace ignite::sandbox::native {
namespace {

constexpr std::string_view kDefaultPolicy =
#include "seccomp_default_policy.inc"
    ;

using Ctx = std::unique_ptr<void, decltype(&seccomp_release)>;

std::uint32_t action_of(SeccompAction a, std::uint32_t kill) {
  switch (a) {
    case SeccompAction::eperm:
      return SCMP_ACT_ERRNO(EPERM);
    case SeccompAction::enosys:
      return SCMP_ACT_ERRNO(ENOSYS);
    case SeccompAction::kill:
      return kill;
  }
  return kill;
}

Status check(int rc, std::string_view what) {
  if (rc < 0) return fail(Error::from_errno(std::string("seccomp: ") + std::string(what), -rc));
  return ok();
}

}  // namespace

std::string_view default_seccomp_policy() { return kDefaultPolicy; }

Result<std::vector<SeccompRule>> parse_seccomp_policy(std::string_view text) {
  std::vector<SeccompRule> rules;
  std::istringstream in{std::string(text)};
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    line = line.substr(0, line.find('#'));
    std::istringstream words(line);
    std::string name, action;
    if (!(words >> name)) continue;
    if (!(words >> action)) action = "eperm";
    SeccompRule r{name, SeccompAction::eperm};
    if (action == "enosys") {
      r.action = SeccompAction::enosys;
    } else if (action == "kill") {
      r.action = SeccompAction::kill;
    } else if (action != "eperm") {
      return fail(ErrorCode::invalid_argument, "seccomp policy line " + std::to_string(lineno) +
                                                   ": unknown action '" + action + "'");
    }
    rules.push_back(std::move(r));
  }
  return rules;
}

Result<SeccompFilter> SeccompFilter::compile(const std::vector<SeccompRule>& rules,
                                             bool notify_kills) {
  Ctx ctx(seccomp_init(SCMP_ACT_ALLOW), &seccomp_release);
  if (!ctx) return fail(ErrorCode::internal, "seccomp_init failed");
  // Security: a "kill" is either the kernel's own kill, or a user notification the supervisor
  // answers by killing the sandbox after noting the syscall's name. Either way the call never
  // runs: a notification nobody listens to fails the call with ENOSYS.
  const std::uint32_t kill = notify_kills ? SCMP_ACT_NOTIFY : SCMP_ACT_KILL_PROCESS;
  // Security: any other ABI (i386 via int 0x80, x32) is killed: a deny list written for
  // x86_64 numbers means nothing there.
  IGNITE_TRY(check(seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, kill), "badarch"));
  for (const auto& r : rules) {
    int nr = seccomp_syscall_resolve_name(r.syscall.c_str());
    if (nr == __NR_SCMP_ERROR) continue;  // not on this architecture
    IGNITE_TRY(check(seccomp_rule_add(ctx.get(), action_of(r.action, kill), nr, 0), r.syscall));
  }
  // Security: clone() can create namespaces without unshare(); deny any namespace flag.
  constexpr std::uint64_t kNsFlags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |
                                     CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP;
  for (std::uint64_t flag = 1; flag; flag <<= 1) {
    if (!(kNsFlags & flag)) continue;
    IGNITE_TRY(check(seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                                      SCMP_A0(SCMP_CMP_MASKED_EQ, flag, flag)),
                     "clone"));
  }
  // Security: TIOCSTI pushes input into a terminal the sandbox might share.
  IGNITE_TRY(check(seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
                                    SCMP_A1(SCMP_CMP_MASKED_EQ, 0xFFFFFFFFu, TIOCSTI)),
                   "ioctl"));

  // libseccomp writes the BPF to an fd; a memfd keeps it off the filesystem.
  sys::Fd mem(::memfd_create("ignite-seccomp", MFD_CLOEXEC));
  if (!mem) return fail(Error::from_errno("memfd_create"));
  IGNITE_TRY(check(seccomp_export_bpf(ctx.get(), mem.get()), "export"));
  off_t size = ::lseek(mem.get(), 0, SEEK_END);
  if (size <= 0 || size % static_cast<off_t>(sizeof(sock_filter)) != 0)
    return fail(ErrorCode::internal, "seccomp: unexpected BPF size");
  SeccompFilter f;
  f.notify_kills_ = notify_kills;
  f.code_.resize(static_cast<std::size_t>(size) / sizeof(sock_filter));
  if (::pread(mem.get(), f.code_.data(), static_cast<std::size_t>(size), 0) != size)
    return fail(Error::from_errno("seccomp: read BPF"));
  f.prog_.len = static_cast<unsigned short>(f.code_.size());
  f.prog_.filter = f.code_.data();
  return f;
}

SeccompFilter::SeccompFilter(SeccompFilter&& other) noexcept
    : code_(std::move(other.code_)), notify_kills_(other.notify_kills_) {
  prog_.len = static_cast<unsigned short>(code_.size());
  prog_.filter = code_.data();
  other.prog_ = {};
}

std::string syscall_name(int nr) {
  char* name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
  if (!name) return "syscall " + std::to_string(nr);
  std::string out(name);
  std::free(name);
  return out;
}

}  // namespace ignite::sandbox::native

namespace ignite::sandbox::native {

std::string syscall_name(int nr, std::uint32_t audit_arch) {
  constexpr int kX32Bit = 0x40000000;  // __X32_SYSCALL_BIT: x32 calls share x86_64's arch value
  if (audit_arch == SCMP_ARCH_X86_64 && (nr & kX32Bit)) {
    audit_arch = SCMP_ARCH_X32;
  } else if (audit_arch == 0 || audit_arch == seccomp_arch_native()) {
    return syscall_name(nr);
  }
  std::string abi = audit_arch == SCMP_ARCH_X86   ? "i386 ABI"
                    : audit_arch == SCMP_ARCH_X32 ? "x32 ABI"
                                                  : "foreign ABI " + std::to_string(audit_arch);
  char* name = seccomp_syscall_resolve_num_arch(audit_arch, nr);
  std::string call = name ? std::string(name) : "syscall " + std::to_string(nr);
  std::free(name);
  return call + " (" + abi + ")";
}

bool kernel_has_user_notif(const std::filesystem::path& proc) {
  auto actions = sys::read_file(proc / "sys/kernel/seccomp/actions_avail");
  return actions && actions->find("user_notif") != std::string::npos;
}

}  // namespace ignite::sandbox::native
