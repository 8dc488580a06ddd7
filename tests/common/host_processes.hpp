// The host's processes whose command line or cwd contains a marker (a test's token, a scratch
// dir).
// A process can end between listing /proc and reading its cmdline; reading it then fails with
// ESRCH, which an istreambuf_iterator over an ifstream turns into an exception (it once failed
// a CI run), so this reads with plain read(2) and skips any process it cannot read.
#pragma once

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cctype>
#include <string>
#include <string_view>
#include <vector>

namespace ignite::testing {

inline std::vector<int> host_processes_with(std::string_view marker) {
  std::vector<int> pids;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return pids;
  while (const dirent* e = ::readdir(proc)) {
    const std::string name = e->d_name;
    if (name.empty() || name.find_first_not_of("0123456789") != std::string::npos) continue;
    const int pid = std::stoi(name);
    if (pid == ::getpid()) continue;
    const int fd = ::open(("/proc/" + name + "/cmdline").c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    std::string cmdline;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0) cmdline.append(buf, static_cast<size_t>(n));
    ::close(fd);
    // Or its cwd: a jailed VMM names the files of its VM's dir relative to it (vmm_jail.hpp).
    char cwd[4096];
    const ssize_t len = ::readlink(("/proc/" + name + "/cwd").c_str(), cwd, sizeof cwd);
    if (cmdline.find(marker) != std::string::npos ||
        (len > 0 && std::string_view(cwd, static_cast<std::size_t>(len)).find(marker) != std::string_view::npos))
      pids.push_back(pid);
  }
  ::closedir(proc);
  return pids;
}

}  // namespace ignite::testing
