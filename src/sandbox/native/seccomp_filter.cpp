#include "sandbox/native/seccomp_filter.hpp"

#include <linux/sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <memory>
#include <optional>

#include "sys/fd.hpp"
#include "sys/files.hpp"

namespace ignite::sandbox::native {
namespace {

using Ctx = std::unique_ptr<void, decltype(&seccomp_release)>;

std::uint32_t action_of(SeccompAction a, std::uint32_t kill) {
  switch (a) {
    case SeccompAction::allow:
      return SCMP_ACT_ALLOW;
    case SeccompAction::eperm:
      return SCMP_ACT_ERRNO(EPERM);
    case SeccompAction::enosys:
      return SCMP_ACT_ERRNO(ENOSYS);
    case SeccompAction::eafnosupport:
      return SCMP_ACT_ERRNO(EAFNOSUPPORT);
    case SeccompAction::kill:
      return kill;
  }
  return kill;
}

Status check(int rc, std::string_view what) {
  if (rc < 0) return fail(Error::from_errno(std::string("seccomp: ") + std::string(what), -rc));
  return ok();
}

// One argument comparison: what libseccomp's SCMP_A<n> macros build, without their C compound
// literals (clang's -Wpedantic rejects them in C++).
constexpr scmp_arg_cmp arg(unsigned index, scmp_compare op, std::uint64_t a, std::uint64_t b = 0) {
  return scmp_arg_cmp{index, op, a, b};
}

// Security: the policy's socket lines, on socket(2) and socketpair(2) alike. The kernel reads
// the family (arg0) and protocol (arg2) as ints, the low halves of registers seccomp sees whole,
// so a deny must not depend on the upper halves: each family below kSocketFamilySpan is
// compared under a 32-bit mask (0x1_00000028 is still AF_VSOCK), everything from the span up,
// including any value with upper bits set, gets the `family=*` action in one comparison, and a
// denied family's one allowed protocol is a whole-register "!= P" (upper bits set: denied).
Status add_socket_rules(scmp_filter_ctx ctx, const SeccompPolicy& p, std::uint32_t kill) {
  if (p.sockets.empty()) return ok();
  constexpr std::uint64_t kInt = 0xFFFFFFFFu;
  for (const int nr : {SCMP_SYS(socket), SCMP_SYS(socketpair)}) {
    auto add = [&](SeccompAction a, scmp_arg_cmp family, std::optional<scmp_arg_cmp> protocol) {
      return protocol ? check(seccomp_rule_add(ctx, action_of(a, kill), nr, 2, family, *protocol),
                              "socket")
                      : check(seccomp_rule_add(ctx, action_of(a, kill), nr, 1, family), "socket");
    };
    for (int family = 0; family < kSocketFamilySpan; ++family) {
      const auto f = static_cast<std::uint64_t>(family);
      const SeccompAction base = socket_family_action(p, family);
      const scmp_arg_cmp is_family = arg(0, SCMP_CMP_MASKED_EQ, kInt, f);
      bool protocol_lines = false;
      for (const auto& r : p.sockets) {
        if (r.family != family || !r.protocol) continue;
        protocol_lines = true;
        const auto proto = static_cast<std::uint64_t>(*r.protocol);
        // parse_seccomp_policy admits only: protocols denied in an allowed family, or the one
        // protocol allowed in a denied family.
        if (base == SeccompAction::allow) {
          IGNITE_TRY(add(r.action, is_family, arg(2, SCMP_CMP_MASKED_EQ, kInt, proto)));
        } else {
          IGNITE_TRY(add(base, is_family, arg(2, SCMP_CMP_NE, proto)));
        }
      }
      if (!protocol_lines && base != SeccompAction::allow) IGNITE_TRY(add(base, is_family, {}));
    }
    const SeccompAction rest = socket_family_action(p, kSocketFamilySpan);
    if (rest != SeccompAction::allow)
      IGNITE_TRY(
          add(rest, arg(0, SCMP_CMP_GE, static_cast<std::uint64_t>(kSocketFamilySpan)), {}));
  }
  return ok();
}

}  // namespace

Result<SeccompFilter> SeccompFilter::compile(const SeccompPolicy& policy, bool notify_kills) {
  Ctx ctx(seccomp_init(SCMP_ACT_ALLOW), &seccomp_release);
  if (!ctx) return fail(ErrorCode::internal, "seccomp_init failed");
  // Security: a "kill" is either the kernel's own kill, or a user notification the supervisor
  // answers by killing the sandbox after noting the syscall's name. Either way the call never
  // runs: a notification nobody listens to fails the call with ENOSYS.
  const std::uint32_t kill = notify_kills ? SCMP_ACT_NOTIFY : SCMP_ACT_KILL_PROCESS;
  // Security: any other ABI (i386 via int 0x80, x32) is killed: a deny list written for
  // x86_64 numbers means nothing there.
  IGNITE_TRY(check(seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, kill), "badarch"));
  // A binary tree of syscall numbers instead of a chain: loading the filter (seccomp_attach_filter
  // runs the program for every syscall number to build its cache of always-allowed calls) took
  // 107 us in every sandbox's init with the chain, 45 with the tree (500 loads each, this host).
  // Its meaning is checked, not its shape: native_seccomp_bpf_test runs it.
  IGNITE_TRY(check(seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_OPTIMIZE, 2), "optimize"));
  for (const auto& r : policy.syscalls) {
    int nr = seccomp_syscall_resolve_name(r.syscall.c_str());
    if (nr == __NR_SCMP_ERROR) continue;  // not on this architecture
    IGNITE_TRY(check(seccomp_rule_add(ctx.get(), action_of(r.action, kill), nr, 0), r.syscall));
  }
  IGNITE_TRY(add_socket_rules(ctx.get(), policy, kill));
  // Security: clone() can create namespaces without unshare(); deny any namespace flag.
  constexpr std::uint64_t kNsFlags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER |
                                     CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP;
  for (std::uint64_t flag = 1; flag; flag <<= 1) {
    if (!(kNsFlags & flag)) continue;
    IGNITE_TRY(check(seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
                                      arg(0, SCMP_CMP_MASKED_EQ, flag, flag)),
                     "clone"));
  }
  // Security: TIOCSTI pushes input into a terminal the sandbox might share.
  IGNITE_TRY(check(seccomp_rule_add(ctx.get(), SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1,
                                    arg(1, SCMP_CMP_MASKED_EQ, 0xFFFFFFFFu, TIOCSTI)),
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

SeccompFilter SeccompFilter::from_program(std::span<const sock_filter> code, bool notify_kills) {
  SeccompFilter f;
  f.notify_kills_ = notify_kills;
  f.code_.assign(code.begin(), code.end());
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
