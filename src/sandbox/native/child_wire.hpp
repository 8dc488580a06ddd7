// ChildArgs as bytes: how the supervisor hands a sandbox's init (ignite-sandbox-init, a program
// of its own since the init no longer shares the supervisor's memory) everything it needs.
// The supervisor encodes; the init decodes into memory it owns. Descriptors travel as numbers:
// they are inherited across the init's execve (init_launch.cpp keeps exactly those open). The
// init's side, decoding, is child_decode.hpp.
#pragma once
#include <string>
#include <vector>

#include "sandbox/native/child.hpp"
#include "sandbox/native/child_decode.hpp"

namespace ignite::sandbox::native {

std::string encode_child_args(const ChildArgs& args);

// Every descriptor the init uses, -1 where a channel is unused (init_launch keeps these).
std::vector<int> child_fds(const ChildArgs& args);

}  // namespace ignite::sandbox::native
