// IdPool: gives each concurrent sandbox its own uid/gid from a range (as isolate does with box
// ids). Whatever the kernel accounts per user — inotify instances and watches, pipe buffer pages,
// POSIX message queue bytes, RLIMIT_NPROC — is then never shared between two runs, and no run
// can signal, ptrace or open the /proc files of another even if their PID namespaces met.
//
// Ids are claimed across processes with an flock on <lock_dir>/<id>: two Ignite processes never
// hand out the same id at once, and the kernel releases a dead process's claims by itself.
#pragma once
#include <filesystem>
#include <mutex>
#include <vector>

#include "core/result.hpp"
#include "sys/fd.hpp"

namespace ignite::sandbox::native {

class IdPool {
 public:
  // [first, first + count); `lock_dir` is created (root-owned, private) on first use.
  IdPool(std::filesystem::path lock_dir, unsigned first, unsigned count);

  // One claimed id; released (for this and every other process) when destroyed.
  class Lease {
   public:
    Lease() = default;
    Lease(Lease&& other) noexcept;
    Lease& operator=(Lease&&) = delete;
    Lease(const Lease&) = delete;
    ~Lease();
    unsigned id() const noexcept { return id_; }

   private:
    friend class IdPool;
    IdPool* pool_ = nullptr;
    unsigned id_ = 0;
    sys::Fd lock_;
  };

  // The next free id, round robin (a just-released id is reused last, so processes of the run
  // that still exit cannot meet the next one). resource_exhausted when every id is taken.
  Result<Lease> acquire();

 private:
  void release(unsigned id);

  std::filesystem::path lock_dir_;
  unsigned first_, count_;
  std::mutex mu_;
  std::vector<bool> used_;  // in this process
  unsigned next_ = 0;
  bool dir_ready_ = false;
};

}  // namespace ignite::sandbox::native
