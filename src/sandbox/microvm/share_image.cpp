#include "sandbox/microvm/share_image.hpp"

#include <poll.h>

#include <cerrno>

#include <algorithm>

#include <spdlog/spdlog.h>

namespace ignite::sandbox::microvm {

using Clock = std::chrono::steady_clock;

std::vector<std::string> mksquashfs_argv(const ShareImage& how) {
  return {how.mksquashfs.string(), how.share.string(), how.image.string(),
          // A fresh image; no progress bar or recovery file (it would go to $HOME).
          "-noappend", "-no-progress", "-no-recovery",
          "-noI", "-noD", "-noF", "-noX", "-no-xattrs"};
}

Status build_share_image(const ShareImage& how, const std::vector<ShareEntry>& entries, Deadline deadline) {
  IGNITE_TRY_ASSIGN(sys::ChildProcess builder, spawn_with_share(mksquashfs_argv(how), how.log, how.share, entries));
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return fail(ErrorCode::unavailable, "microvm: building the share's disk image took too long");
    pollfd p{builder.pidfd(), POLLIN, 0};
    const int n = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 1000)));
    if (n > 0) break;
    if (n < 0 && errno != EINTR) return fail(Error::from_errno("poll mksquashfs"));
  }
  IGNITE_TRY_ASSIGN(sys::ExitStatus status, builder.wait());
  if (status.exit_code == 0) return ok();
  // Its output names host paths: for the log, not for the caller.
  spdlog::warn("microvm: mksquashfs failed; its output:\n{}", console_tail(how.log));
  return fail(ErrorCode::unavailable, "microvm: mksquashfs could not build the share's disk image (" +
                                          (status.exit_code ? "exit " + std::to_string(*status.exit_code)
                                                            : "signal " + std::to_string(status.signal.value_or(0))) +
                                          ")");
}

}  // namespace ignite::sandbox::microvm
