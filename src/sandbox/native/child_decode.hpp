// The init's side of child_wire.hpp: the bytes the supervisor sent, decoded into memory the init
// owns. C headers and malloc only: ignite-sandbox-init is built against musl without a C++
// library (CMakeLists.txt says why); the unit tests run the same code under glibc.
#pragma once
#include <linux/filter.h>
#include <stddef.h>
#include <stdint.h>

#include "sandbox/native/child.hpp"

namespace ignite::sandbox::native {

inline constexpr uint32_t kChildWireMagic =
    0x49474331;  // "IGC1": bump with any change of the layout

// The descriptors as they travel, in this order.
struct ChildWireFds {
  int32_t sync, report, exec, in, out, err, notify, handover, cgroup[4];
};

// The decoded arguments. `args` points into `arena`, one allocation this object frees (so not
// copyable or movable). `args.plan` stays null: the steps are `args.root` and `args.steps`.
struct DecodedChildArgs {
  DecodedChildArgs() = default;
  DecodedChildArgs(const DecodedChildArgs&) = delete;
  DecodedChildArgs& operator=(const DecodedChildArgs&) = delete;
  ~DecodedChildArgs();

  ChildArgs args;
  sock_fprog program{};
  char* arena = nullptr;
};

// False when `bytes` is not a complete encoding (truncated, trailing bytes, counts beyond the
// bytes there are, another version) or memory ran out; `out` is then partly filled.
bool decode_child_args(const char* bytes, size_t size, DecodedChildArgs& out) noexcept;

}  // namespace ignite::sandbox::native
