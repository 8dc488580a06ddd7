#include "sandbox/native/init_launch.hpp"

#include <fcntl.h>
#include <linux/capability.h>
#include <linux/close_range.h>
#include <poll.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <csignal>
#include <string>
#include <vector>

#include "sandbox/native/child_wire.hpp"
#include "sys/clone_vm.hpp"
#include "sys/fd.hpp"
#include "sys/pipe.hpp"
#include "sys/write_all.hpp"

namespace ignite::sandbox::native {
namespace {

constexpr std::size_t kStackSize = 64 * 1024;

// What the child reads, all prepared before clone (it may not allocate: it runs on our memory,
// and another thread may hold the allocator's lock).
struct ChildSide {
  int binary = -1;
  int report_fd = -1;
  bool in_user_namespace = false;
  const int* keep = nullptr;  // stays open across execve; -1 entries are skipped
  std::size_t keep_count = 0;
  char* const* argv = nullptr;
  long unshare_flags = 0;  // namespaces the child makes itself (an early init), not the clone
};

using sys::raw_syscall;

// In a new user namespace our uid is not mapped yet (the supervisor writes the map once we
// exist and it may run again, i.e. after our execve), and execve by a uid that is not root of
// the namespace clears the capabilities the clone gave us. Ambient capabilities survive it:
// raise them all. child_main drops every one of them before the program starts.
void keep_capabilities_across_exec() noexcept {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2] = {};
  if (raw_syscall(SYS_capget, reinterpret_cast<long>(&hdr), reinterpret_cast<long>(data)) != 0) return;
  for (auto& d : data) d.inheritable = d.permitted;
  if (raw_syscall(SYS_capset, reinterpret_cast<long>(&hdr), reinterpret_cast<long>(data)) != 0) return;
  for (long cap = 0; cap <= 63; ++cap) (void)raw_syscall(SYS_prctl, PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap);
}

[[noreturn]] void report_and_exit(int report_fd, long err) noexcept {
  ChildReport r{ChildStage::start_init, static_cast<int>(-err), 0, 0, 0, 0};
  (void)raw_syscall(SYS_write, report_fd, reinterpret_cast<long>(&r), sizeof r);
  for (;;) (void)raw_syscall(SYS_exit_group, 127);
}

// The child, on its own stack in our memory, until execveat. Raw syscalls only, which leave
// errno alone: it is the TLS of the thread that cloned us, which (an early init) runs on.
int exec_init(void* p) {
  const auto& c = *static_cast<const ChildSide*>(p);
  // Everything inherited closes at execve except what init uses: the clone copied every
  // descriptor of the supervisor (connections, other runs' pipes).
  (void)raw_syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
  for (std::size_t i = 0; i < c.keep_count; ++i) {
    if (c.keep[i] >= 0) (void)raw_syscall(SYS_fcntl, c.keep[i], F_SETFD, 0);
  }
  if (c.unshare_flags != 0) {
    if (long err = raw_syscall(SYS_unshare, c.unshare_flags); err != 0) report_and_exit(c.report_fd, err);
  }
  if (c.in_user_namespace) keep_capabilities_across_exec();
  static char* const kNoEnvironment[] = {nullptr};
  const long err = raw_syscall(SYS_execveat, c.binary, reinterpret_cast<long>(""), reinterpret_cast<long>(c.argv),
                               reinterpret_cast<long>(kNoEnvironment), AT_EMPTY_PATH);
  report_and_exit(c.report_fd, err);
}

class Stack {
 public:
  Stack() : base_(::mmap(nullptr, kStackSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0)) {}
  ~Stack() {
    if (ok()) ::munmap(base_, kStackSize);
  }
  Stack(const Stack&) = delete;
  Stack& operator=(const Stack&) = delete;
  bool ok() const { return base_ != MAP_FAILED; }
  void* base() const { return base_; }

 private:
  void* base_;
};

// Signals blocked on this thread while the child runs on our memory: a handler would run in the
// child, on the supervisor's data. The child's execve keeps the mask; child_main sets the
// program's.
class BlockAllSignals {
 public:
  BlockAllSignals() {
    sigset_t all;
    sigfillset(&all);
    ::pthread_sigmask(SIG_SETMASK, &all, &old_);
  }
  ~BlockAllSignals() { ::pthread_sigmask(SIG_SETMASK, &old_, nullptr); }
  BlockAllSignals(const BlockAllSignals&) = delete;
  BlockAllSignals& operator=(const BlockAllSignals&) = delete;

 private:
  sigset_t old_{};
};

Result<sys::Fd> args_memfd(const ChildArgs& args) {
  sys::Fd fd(::memfd_create("ignite-init-args", MFD_CLOEXEC));
  if (!fd) return fail(Error::from_errno("memfd_create"));
  const std::string bytes = encode_child_args(args);
  if (!sys::write_all(fd.get(), bytes)) return fail(Error::from_errno("writing init's arguments"));
  if (::lseek(fd.get(), 0, SEEK_SET) != 0) return fail(Error::from_errno("lseek"));
  return fd;
}

// Clones the child that runs exec_init(side) on `stack` with `flags` (+ CLONE_INTO_CGROUP when
// `cgroup_dir` is set and the kernel has it; CLONE_PIDFD must be among `flags`).
Result<LaunchedInit> clone_init(const ChildSide& side, const Stack& stack, std::uint64_t flags, int cgroup_dir) {
  int pidfd = -1;
  clone_args ca{};
  ca.flags = flags;
  ca.pidfd = reinterpret_cast<std::uint64_t>(&pidfd);
  ca.exit_signal = SIGCHLD;
  ca.stack = reinterpret_cast<std::uint64_t>(stack.base());
  ca.stack_size = kStackSize;
  if (cgroup_dir >= 0) {
    ca.flags |= CLONE_INTO_CGROUP;
    ca.cgroup = static_cast<__u64>(static_cast<unsigned>(cgroup_dir));
  }
  long pid = 0;
  {
    BlockAllSignals blocked;
    pid = sys::clone3_on_stack(&ca, exec_init, const_cast<ChildSide*>(&side));
    if ((pid == -EINVAL || pid == -E2BIG) && cgroup_dir >= 0) {
      ca.flags = flags;
      ca.cgroup = 0;
      pid = sys::clone3_on_stack(&ca, exec_init, const_cast<ChildSide*>(&side));
    }
  }
  if (pid < 0) return fail(Error::from_errno("clone3", static_cast<int>(-pid)));
  return LaunchedInit{sys::ChildProcess(static_cast<pid_t>(pid), sys::Fd(pidfd)), (ca.flags & CLONE_INTO_CGROUP) != 0};
}

}  // namespace

Result<LaunchedInit> launch_init(int init_binary, const ChildArgs& args, bool network, int cgroup_dir) {
  IGNITE_TRY_ASSIGN(sys::Fd memfd, args_memfd(args));
  std::vector<int> keep = child_fds(args);
  keep.push_back(memfd.get());
  std::string args_fd = std::to_string(memfd.get()), report_fd = std::to_string(args.report_fd);
  std::string name = "ignite-sandbox-init";
  char* argv[] = {name.data(), args_fd.data(), report_fd.data(), nullptr};
  const ChildSide side{init_binary, args.report_fd, args.in_user_namespace, keep.data(), keep.size(), argv};
  Stack stack;
  if (!stack.ok()) return fail(Error::from_errno("mmap (init's stack)"));
  std::uint64_t flags = CLONE_VM | CLONE_VFORK | CLONE_PIDFD | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC |
                        CLONE_NEWUTS | CLONE_NEWCGROUP;
  if (!network) flags |= CLONE_NEWNET;  // a fresh network namespace: only a loopback, down
  if (args.in_user_namespace) flags |= CLONE_NEWUSER;
  return clone_init(side, stack, flags, cgroup_dir);
}

// The memory an early init runs on until its execve, and how we know it is done with it.
struct EarlyChildMemory {
  Stack stack;
  std::vector<int> keep;
  std::string name = "ignite-sandbox-init", args_fd, report_fd;
  char* argv[4] = {};
  ChildSide side;
  sys::Fd execed;  // read end of a CLOEXEC pipe whose only write end the child holds
};

EarlyInit::EarlyInit(LaunchedInit launched, std::unique_ptr<EarlyChildMemory> memory)
    : init(std::move(launched)), memory_(std::move(memory)) {}
EarlyInit::EarlyInit(EarlyInit&&) noexcept = default;

EarlyInit::~EarlyInit() {
  if (!memory_) return;
  // EOF once the child has executed ignite-sandbox-init or died: then nothing runs on the
  // memory any more. A child stuck before its execve (stopped by a debugger) keeps it.
  pollfd pfd{memory_->execed.get(), POLLIN, 0};
  char byte = 0;
  if (::poll(&pfd, 1, 5000) != 1 || ::read(memory_->execed.get(), &byte, 1) != 0) (void)memory_.release();
}

Result<EarlyInit> launch_init_early(int init_binary, std::vector<int> keep, int args_fd, int report_fd,
                                    bool in_user_namespace, int cgroup_dir) {
  auto m = std::make_unique<EarlyChildMemory>();
  if (!m->stack.ok()) return fail(Error::from_errno("mmap (init's stack)"));
  IGNITE_TRY_ASSIGN(sys::Pipe execed, sys::make_pipe());
  m->keep = std::move(keep);
  m->args_fd = std::to_string(args_fd);
  m->report_fd = std::to_string(report_fd);
  m->argv[0] = m->name.data();
  m->argv[1] = m->args_fd.data();
  m->argv[2] = m->report_fd.data();
  m->side = ChildSide{init_binary, report_fd, in_user_namespace, m->keep.data(), m->keep.size(), m->argv,
                      CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP | CLONE_NEWNET};
  m->execed = std::move(execed.read);
  // The PID namespace comes with the clone (init is its PID 1), and so does a user namespace
  // (it must own the others); the child makes the rest itself, on its own CPU.
  std::uint64_t flags = CLONE_VM | CLONE_PIDFD | CLONE_NEWPID;
  if (in_user_namespace) flags |= CLONE_NEWUSER;
  IGNITE_TRY_ASSIGN(LaunchedInit launched, clone_init(m->side, m->stack, flags, cgroup_dir));
  execed.write.reset();  // the child's copy closes at its execve
  return EarlyInit(std::move(launched), std::move(m));
}

}  // namespace ignite::sandbox::native
