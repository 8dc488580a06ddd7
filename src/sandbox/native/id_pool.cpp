#include "sandbox/native/id_pool.hpp"

#include <fcntl.h>
#include <sys/file.h>

#include "sys/owned_dir.hpp"

namespace ignite::sandbox::native {

IdPool::IdPool(std::filesystem::path lock_dir, unsigned first, unsigned count)
    : lock_dir_(std::move(lock_dir)), first_(first), count_(count), used_(count, false) {}

IdPool::Lease::Lease(Lease&& other) noexcept
    : pool_(std::exchange(other.pool_, nullptr)), id_(other.id_), lock_(std::move(other.lock_)) {}

IdPool::Lease::~Lease() {
  if (pool_) pool_->release(id_);
}

Result<IdPool::Lease> IdPool::acquire() {
  std::lock_guard lock(mu_);
  if (!dir_ready_) {
    // Security: the lock files decide who may use an id; only root may create or remove them.
    IGNITE_TRY(sys::ensure_owned_dir(lock_dir_, 0700));
    dir_ready_ = true;
  }
  for (unsigned tried = 0; tried < count_; ++tried) {
    const unsigned slot = next_;
    next_ = (next_ + 1) % count_;
    if (used_[slot]) continue;
    const unsigned id = first_ + slot;
    const auto path = lock_dir_ / std::to_string(id);
    sys::Fd fd(::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd) return fail(Error::from_errno("open " + path.string()));
    if (::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) continue;  // another Ignite has it
    used_[slot] = true;
    Lease lease;
    lease.pool_ = this;
    lease.id_ = id;
    lease.lock_ = std::move(fd);
    return lease;
  }
  return fail(ErrorCode::resource_exhausted,
              "all " + std::to_string(count_) + " sandbox user ids are in use (too many concurrent runs)");
}

void IdPool::release(unsigned id) {
  std::lock_guard lock(mu_);
  used_[id - first_] = false;
}

}  // namespace ignite::sandbox::native
