#include "sandbox/microvm/share_image.hpp"

namespace ignite::sandbox::microvm {

std::vector<std::string> mksquashfs_argv(const ShareImage& how) {
  return {how.mksquashfs.string(), how.share.string(), how.image.string(),
          // A fresh image; no progress bar or recovery file (it would go to $HOME).
          "-noappend", "-no-progress", "-no-recovery",
          "-noI", "-noD", "-noF", "-noX", "-no-xattrs"};
}

Status build_share_image(const ShareImage& how, const std::vector<ShareEntry>& entries, Deadline deadline) {
  IGNITE_TRY_ASSIGN(sys::ChildProcess builder, spawn_with_share(mksquashfs_argv(how), how.log, how.share, entries));
  return await_builder(std::move(builder), how.log, "mksquashfs", "the share's disk image", deadline);
}

}  // namespace ignite::sandbox::microvm
