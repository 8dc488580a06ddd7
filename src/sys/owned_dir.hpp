// Host directories Ignite keeps (scratch, staging, caches, its runtime dir): created by us, and
// used only when their owner and mode say that nobody else can change what is inside.
#pragma once
#include <sys/types.h>

#include <filesystem>

#include "core/result.hpp"

namespace ignite::sys {

// Makes sure `path` is a directory that only we (or root) control, creating what is missing,
// and sets its mode to `mode`. Every component on the way must be owned by root or by us; a
// component writable by others is accepted only when it is sticky (like /tmp), and then what
// follows it must be ours. Symlinks are followed only when root or we own them. The last
// component must be owned by us and not writable by group or others before we chmod it.
// Fails with permission_denied naming the component and what is wrong with it.
Status ensure_owned_dir(const std::filesystem::path& path, mode_t mode);

}  // namespace ignite::sys
