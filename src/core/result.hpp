// Result<T>/Status: errors as values for everything Ignite does (no exceptions across components).
#pragma once
#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace ignite {

enum class ErrorCode {
  invalid_argument,    // the request/spec is wrong; retrying will not help
  unsupported,         // the host lacks a feature (no cgroup v2, no /dev/kvm)
  permission_denied,   // we lack a privilege or a delegation
  unavailable,         // a dependency is down (docker daemon, NATS); may retry
  resource_exhausted,  // at capacity; may retry later
  failed_precondition, // the request is valid but may not run as it is (preflight failed)
  internal,            // a bug, or a syscall failed in a way we did not expect
};

struct Error {
  ErrorCode code = ErrorCode::internal;
  std::string message;  // "what: why", e.g. "mount /proc: Operation not permitted"
  int sys_errno = 0;    // errno when a syscall was the cause, else 0

  static Error from_errno(std::string_view what, int err = errno) {
    ErrorCode code = err == EPERM || err == EACCES ? ErrorCode::permission_denied
                     : err == ENOSYS || err == EOPNOTSUPP ? ErrorCode::unsupported
                                                          : ErrorCode::internal;
    return {code, std::string(what) + ": " + std::strerror(err), err};
  }
  // Adds the caller's context in front: "create cgroup: mkdir ...: EACCES".
  Error with_context(std::string_view outer) && {
    message = std::string(outer) + ": " + message;
    return std::move(*this);
  }
};

struct Unexpected {
  Error error;
};
inline Unexpected fail(Error e) { return {std::move(e)}; }
inline Unexpected fail(ErrorCode code, std::string message) { return {{code, std::move(message), 0}}; }

// Minimal expected-like type: swap for std::expected<T, Error> once the whole
// toolchain (including clang-tidy) supports C++23 <expected>.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}
  Result(Unexpected u) : v_(std::in_place_index<1>, std::move(u.error)) {}

  bool has_value() const noexcept { return v_.index() == 0; }
  explicit operator bool() const noexcept { return has_value(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& { return std::get<1>(v_); }
  Error&& error() && { return std::get<1>(std::move(v_)); }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Unexpected u) : error_(std::move(u.error)) {}
  bool has_value() const noexcept { return !error_; }
  explicit operator bool() const noexcept { return has_value(); }
  const Error& error() const& { return *error_; }
  Error&& error() && { return std::move(*error_); }

 private:
  std::optional<Error> error_;
};

using Status = Result<void>;
inline Status ok() { return {}; }

}  // namespace ignite

// Propagate an error to the caller (the C++ spelling of Rust's `?`).
#define IGNITE_TRY(expr)                                       \
  do {                                                      \
    auto&& ignite_try_result_ = (expr);                        \
    if (!ignite_try_result_)                                   \
      return ::ignite::Unexpected{std::move(ignite_try_result_).error()}; \
  } while (false)

#define IGNITE_CONCAT_INNER_(a, b) a##b
#define IGNITE_CONCAT_(a, b) IGNITE_CONCAT_INNER_(a, b)
#define IGNITE_TRY_ASSIGN(lhs, expr) IGNITE_TRY_ASSIGN_IMPL_(IGNITE_CONCAT_(ignite_r_, __LINE__), lhs, expr)
#define IGNITE_TRY_ASSIGN_IMPL_(tmp, lhs, expr)                    \
  auto tmp = (expr);                                            \
  if (!tmp) return ::ignite::Unexpected{std::move(tmp).error()};   \
  lhs = std::move(tmp).value()
