#include "sys/clone_vm.hpp"

#include <sys/syscall.h>

// ignite_clone3_raw(args, size, fn, arg). The kernel gives the child the same registers but the
// new stack pointer (stack + stack_size, 16-byte aligned by the caller), so the child finds
// fn/arg in registers the syscall preserves. Same shape as glibc's internal clone3.S.
#if defined(__x86_64__)
asm(R"(
    .text
    .p2align 4
    .globl ignite_clone3_raw
    .hidden ignite_clone3_raw
    .type ignite_clone3_raw,@function
ignite_clone3_raw:
    mov %rcx, %r8            # arg: rcx does not survive `syscall`
    mov $)" "435" R"(, %eax  # SYS_clone3
    syscall
    test %rax, %rax
    jz 1f
    ret                      # parent: pid or -errno
1:  xor %ebp, %ebp           # child: outermost frame
    mov %r8, %rdi
    call *%rdx
    mov %eax, %edi
    mov $60, %eax            # SYS_exit
    syscall
    hlt
    .size ignite_clone3_raw, .-ignite_clone3_raw

    .p2align 4
    .globl ignite_raw_syscall
    .hidden ignite_raw_syscall
    .type ignite_raw_syscall,@function
ignite_raw_syscall:          # (nr, a1..a6): -errno on failure, errno untouched
    mov %rdi, %rax
    mov %rsi, %rdi
    mov %rdx, %rsi
    mov %rcx, %rdx
    mov %r8, %r10
    mov %r9, %r8
    mov 8(%rsp), %r9
    syscall
    ret
    .size ignite_raw_syscall, .-ignite_raw_syscall
)");
#elif defined(__aarch64__)
asm(R"(
    .text
    .p2align 2
    .globl ignite_clone3_raw
    .hidden ignite_clone3_raw
    .type ignite_clone3_raw,%function
ignite_clone3_raw:
    mov x8, #435             // SYS_clone3
    svc #0
    cbz x0, 1f
    ret                      // parent: pid or -errno
1:  mov x29, xzr             // child: outermost frame
    mov x30, xzr
    mov x0, x3
    blr x2
    mov x8, #93              // SYS_exit
    svc #0
    brk #0
    .size ignite_clone3_raw, .-ignite_clone3_raw

    .p2align 2
    .globl ignite_raw_syscall
    .hidden ignite_raw_syscall
    .type ignite_raw_syscall,%function
ignite_raw_syscall:          // (nr, a1..a6): -errno on failure, errno untouched
    mov x8, x0
    mov x0, x1
    mov x1, x2
    mov x2, x3
    mov x3, x4
    mov x4, x5
    mov x5, x6
    svc #0
    ret
    .size ignite_raw_syscall, .-ignite_raw_syscall
)");
#else
#error "clone3_on_stack: no clone3 trampoline for this architecture"
#endif

extern "C" long ignite_clone3_raw(clone_args* args, unsigned long size, int (*fn)(void*), void* arg);
extern "C" long ignite_raw_syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6);

static_assert(SYS_clone3 == 435, "the trampolines hard-code clone3's number");

namespace ignite::sys {

long clone3_on_stack(clone_args* args, int (*fn)(void*), void* arg) noexcept {
  return ignite_clone3_raw(args, sizeof *args, fn, arg);
}

long raw_syscall(long nr, long a1, long a2, long a3, long a4, long a5, long a6) noexcept {
  return ignite_raw_syscall(nr, a1, a2, a3, a4, a5, a6);
}

}  // namespace ignite::sys
