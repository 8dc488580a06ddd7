#include "sys/tree_budget.hpp"

#include <string_view>

namespace ignite::sys {
namespace {

std::string_view kind_name(mode_t mode) {
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  return "not a file, directory or symlink";
}

}  // namespace

Unexpected tree_refusal(const std::string& rel, const std::string& why) {
  return fail(ErrorCode::invalid_argument, (rel.empty() ? std::string(".") : rel) + ": " + why);
}

Status TreeBudget::entry(const std::string& rel, mode_t mode, std::uint32_t depth) {
  if (++entries_ > limits_.max_entries)
    return tree_refusal(rel, "more than " + std::to_string(limits_.max_entries) + " entries");
  if (S_ISDIR(mode)) {
    if (depth + 1 > limits_.max_depth)
      return tree_refusal(rel, "nested deeper than " + std::to_string(limits_.max_depth) + " directories");
    return ok();
  }
  if (S_ISREG(mode) || S_ISLNK(mode)) return ok();
  return tree_refusal(rel, std::string("is ") + std::string(kind_name(mode)) +
                               " (only files, directories and symlinks are allowed)");
}

Status TreeBudget::bytes(const std::string& rel, std::uint64_t n) {
  // Saturating: a hostile size must not wrap the sum back under the bound.
  total_ = n > UINT64_MAX - total_ ? UINT64_MAX : total_ + n;
  if (total_ > limits_.max_bytes)
    return tree_refusal(rel, "the tree is larger than " + std::to_string(limits_.max_bytes) + " bytes");
  return ok();
}

}  // namespace ignite::sys
