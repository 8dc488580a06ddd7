// The NULL-terminated char* array execve and posix_spawn want, pointing into `strings` (which
// must outlive it and not be resized meanwhile).
#pragma once
#include <string>
#include <vector>

namespace ignite::sys {

inline std::vector<char*> c_string_pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

}  // namespace ignite::sys
