// ChildArgs as bytes: how the supervisor hands a sandbox's init (ignite-sandbox-init, a program
// of its own since the init no longer shares the supervisor's memory) everything it needs.
// The supervisor encodes; the init decodes into memory it owns. Descriptors travel as numbers:
// they are inherited across the init's execve (init_launch.cpp keeps exactly those open).
#pragma once
#include <linux/filter.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sandbox/native/child.hpp"

namespace ignite::sandbox::native {

std::string encode_child_args(const ChildArgs& args);

// The decoded arguments and the storage their pointers point into (not copyable or movable:
// `args` points into the members).
struct DecodedChildArgs {
  DecodedChildArgs() = default;
  DecodedChildArgs(const DecodedChildArgs&) = delete;
  DecodedChildArgs& operator=(const DecodedChildArgs&) = delete;

  MountPlan plan;
  std::string workdir;
  std::string export_path;
  std::vector<std::string> argv_strings, envp_strings;
  std::vector<char*> argv, envp;
  std::vector<sock_filter> filter;
  sock_fprog program{};
  std::vector<RlimitSetting> rlimits;
  ChildArgs args;
};

// False when `bytes` is not a complete encoding (truncated, trailing bytes, counts beyond the
// bytes there are, another version).
bool decode_child_args(std::string_view bytes, DecodedChildArgs& out);

// Every descriptor the init uses, -1 where a channel is unused (init_launch keeps these).
std::vector<int> child_fds(const ChildArgs& args);

}  // namespace ignite::sandbox::native
