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
)");
#else
#error "clone3_on_stack: no clone3 trampoline for this architecture"
#endif

extern "C" long ignite_clone3_raw(clone_args* args, unsigned long size, int (*fn)(void*), void* arg);

static_assert(SYS_clone3 == 435, "the trampolines hard-code clone3's number");

namespace ignite::sys {

long clone3_on_stack(clone_args* args, int (*fn)(void*), void* arg) noexcept {
  return ignite_clone3_raw(args, sizeof *args, fn, arg);
}

}  // namespace ignite::sys
