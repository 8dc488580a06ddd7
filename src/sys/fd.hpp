// Fd: owns one file descriptor; the only place outside RAII types where close(2) is called.
#pragma once
#include <unistd.h>
#include <utility>

namespace ignite::sys {

// Owns one file descriptor. Move-only; closes on destruction.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) noexcept : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(other.release()) {}
  Fd& operator=(Fd&& other) noexcept {
    reset(other.release());
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }

  int get() const noexcept { return fd_; }
  explicit operator bool() const noexcept { return fd_ >= 0; }
  [[nodiscard]] int release() noexcept { return std::exchange(fd_, -1); }
  void reset(int fd = -1) noexcept {
    if (fd_ >= 0) ::close(fd_);  // close(2) errors on Linux are not retryable
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace ignite::sys
