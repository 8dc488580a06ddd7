#include "guest/guest_modules.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "guest/protocol.hpp"

namespace ignite::guest {
namespace {

std::string normalized(std::string_view name) {
  std::string out(name);
  std::replace(out.begin(), out.end(), '-', '_');
  return out;
}

}  // namespace

std::string module_name(std::string_view file) {
  if (const auto dash = file.find('-'); dash != std::string_view::npos &&
                                        std::all_of(file.begin(), file.begin() + static_cast<long>(dash), ::isdigit))
    file.remove_prefix(dash + 1);
  if (file.size() > 3 && file.substr(file.size() - 3) == ".ko") file.remove_suffix(3);
  return normalized(file);
}

std::string module_params(std::string_view module, std::string_view cmdline) {
  const std::string prefix = normalized(module) + ".";
  std::string params;
  for (const std::string_view word : cmdline_words(cmdline)) {
    const std::size_t dot = word.find('.');
    if (dot == std::string_view::npos || normalized(word.substr(0, dot + 1)) != prefix) continue;
    const std::string_view param = word.substr(dot + 1);
    if (param.empty() || param.front() == '=') continue;
    if (!params.empty()) params += ' ';
    params += param;
  }
  return params;
}

std::vector<std::string> load_modules(const char* dir, std::string_view cmdline) {
  std::vector<std::string> files, failed;
  if (DIR* d = ::opendir(dir)) {
    while (const dirent* e = ::readdir(d))
      if (std::string_view(e->d_name).ends_with(".ko")) files.emplace_back(e->d_name);
    ::closedir(d);
  }
  std::sort(files.begin(), files.end());
  for (const auto& file : files) {
    const std::string path = std::string(dir) + "/" + file;
    const std::string params = module_params(module_name(file), cmdline);
    // errno kept at once: the message's own allocations may change it.
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    int err = fd < 0 ? errno : 0;
    if (fd >= 0 && ::syscall(SYS_finit_module, fd, params.c_str(), 0) != 0 && errno != EEXIST) err = errno;
    if (fd >= 0) ::close(fd);
    if (err) failed.push_back(file + ": " + std::strerror(err));
  }
  return failed;
}

}  // namespace ignite::guest
