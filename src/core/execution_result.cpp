#include "core/execution_result.hpp"

namespace ignite {

std::string_view status_name(Outcome outcome, int exit_code) noexcept {
  switch (outcome) {
    case Outcome::exited:
      return exit_code == 0 ? "ok" : "runtime_error";
    case Outcome::signaled:
      return "signaled";
    case Outcome::wall_time_exceeded:
      return "timeout";
    case Outcome::memory_exceeded:
      return "memory_limit";
    case Outcome::output_exceeded:
      return "output_limit";
    case Outcome::syscall_blocked:
      return "syscall_blocked";
    case Outcome::cancelled:
      return "cancelled";
  }
  return "runtime_error";
}

int cli_exit_code(Outcome outcome, int exit_code, int signal) noexcept {
  switch (outcome) {
    case Outcome::exited:
      return exit_code;
    case Outcome::wall_time_exceeded:
      return 124;
    case Outcome::memory_exceeded:
      return 137;
    case Outcome::signaled:
    case Outcome::syscall_blocked:
    case Outcome::output_exceeded:
    case Outcome::cancelled:
      return 128 + (signal > 0 ? signal : 9);
  }
  return 1;
}

}  // namespace ignite
