// The names in a directory, sorted, without "." and "..", at most `limit` + 1 of them (so that a
// dir of millions costs no more than the caller's budget left; one more than the limit tells it
// the budget is exceeded). Plain libc: the static microvm guest agent uses it too.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

namespace ignite::sys {

// Reads `dirfd` (not consumed) into `names`; returns 0 or the errno of the failure.
int sorted_dir_names(int dirfd, std::size_t limit, std::vector<std::string>& names);

}  // namespace ignite::sys
