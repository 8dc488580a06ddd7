// The job's root inside the guest, built from the job's mount plan (data, not code): a tmpfs
// with the plan's host paths bound read-only from the host's root (which the guest sees
// read-only over 9p under /host), the inline files, a private /tmp, a minimal /dev and /proc.
// The program is chrooted into it as an unprivileged uid: /host and the agent stay out of reach.
#pragma once
#include <string>

#include "core/result.hpp"
#include "guest/protocol.hpp"

namespace ignite::guest {

inline constexpr const char* kHostRoot = "/host";
inline constexpr const char* kJobRoot = "/job";

// Builds kJobRoot for `job`; the root is read-only afterwards except /tmp and the output dir.
Status build_job_root(const JobMessage& job);

}  // namespace ignite::guest
