// OutputReceiver: the program's output dir as the guest agent streams it out of the VM ("file"
// and "fileData" frames), rebuilt in a private staging dir of the slot's and checked as it
// arrives. Then the staging dir's fd goes to sandbox::take_output, so the copy into the
// destination and its classification are the native and docker backends' own code.
// Security: every frame is hostile (the program may own the guest kernel). Paths are checked
// component by component (no empty, '.', '..', NUL, absolute or over-long name), each entry
// needs its dir sent first and may come once, and the count, depth and bytes are held to the
// same budget (sys/tree_budget.hpp) with the same numbers as copy_tree_out. Nothing in the
// staging dir is ever followed: every create is *at() relative to a dir fd we opened, with
// O_NOFOLLOW|O_EXCL. The first refusal is kept and the rest of the stream ignored: a hostile
// tree is the program's failure (sandbox::refuse_output), not the run's.
#pragma once
#include <filesystem>
#include <optional>
#include <string>

#include "core/result.hpp"
#include "guest/protocol.hpp"
#include "sys/fd.hpp"
#include "sys/temp_dir.hpp"
#include "sys/tree_budget.hpp"

namespace ignite::sandbox::microvm {

class OutputReceiver {
 public:
  // A fresh 0700 staging dir under `parent` (removed with the receiver, on every path).
  static Result<OutputReceiver> create(const std::filesystem::path& parent, const sys::TreeLimits& limits);

  // One frame of the stream; after a refusal, nothing more is written.
  void entry(const guest::FileMessage& f);
  void data(std::string_view bytes);
  // The guest said it could not read the whole tree.
  void incomplete();

  // The stream ended (the result arrived): the staging dir's fd (valid while the receiver
  // lives), or the refusal.
  Result<int> finish();

 private:
  OutputReceiver(sys::TempDir dir, sys::Fd root, const sys::TreeLimits& limits)
      : dir_(std::move(dir)), root_(std::move(root)), budget_(limits) {}
  Status take_entry(const guest::FileMessage& f);
  Status take_data(std::string_view bytes);
  Status end_file();
  Result<int> parent_of(const std::string& rel, const std::string& parent);
  void refuse(Error why) {
    if (!refused_) refused_ = std::move(why);
  }

  sys::TempDir dir_;
  sys::Fd root_;
  sys::TreeBudget budget_;
  // The dir of the last entry: entries come in walk order, so it is usually the next one's.
  std::string parent_rel_;
  sys::Fd parent_fd_;
  // The file whose bytes are arriving.
  sys::Fd file_;
  std::string file_rel_;
  std::uint64_t file_left_ = 0;
  bool file_executable_ = false;
  std::optional<Error> refused_;
};

// Whether `rel` is a path the guest may send: relative, '/'-separated components, none empty,
// '.', '..' or longer than NAME_MAX, no NUL; `depth` gets the number of dirs above the entry.
bool valid_tree_path(std::string_view rel, std::uint32_t& depth);

}  // namespace ignite::sandbox::microvm
