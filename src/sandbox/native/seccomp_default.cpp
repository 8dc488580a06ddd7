// The default policy's BPF, compiled at build time (seccomp_bpf_gen).
#include "sandbox/native/seccomp_filter.hpp"

namespace ignite::sandbox::native {
namespace {
#include "seccomp_default_bpf.inc"
}  // namespace

SeccompFilter default_seccomp_filter(bool notify_kills) {
  if (notify_kills) return SeccompFilter::from_program(kDefaultNotify, true);
  return SeccompFilter::from_program(kDefaultKill, false);
}

}  // namespace ignite::sandbox::native
