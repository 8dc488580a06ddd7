// The hand-off protocol between a backend and the bootstrap of a warm slot (runtimes/warm/).
// The bootstrap owns nothing the program will not own too: it speaks over the program's own
// stdin and stdout, before the program exists, so a warm program gets the very fds a cold one
// would.
//
//   bootstrap -> stdout:  kReadyMarker, once the runtime is loaded (nothing before it, nothing
//                         after it until the program writes)
//   backend   -> stdin:   "<length in bytes>\n" + JSON {"argv":[...],"env":[...],"cwd":"...",
//                         "nonce":"..."}, then the job's own stdin bytes, then EOF
//   exec bootstrap -> stdout, only if its execve failed (the program never existed):
//                         kExecFailedMarker + "<nonce> <errno>\n", then exit 127. The nonce is
//                         per job and never reaches the program, so no program can fake it.
//
// The bootstrap reads exactly <length> bytes (never more: the rest is the program's stdin),
// replaces its environment, argv and cwd with the job's and runs the entry as the runtime's
// own launcher would.
#pragma once
#include <chrono>
#include <filesystem>
#include <vector>
#include <optional>
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "sandbox/backend.hpp"

namespace ignite::sandbox {

inline constexpr std::string_view kReadyMarker{"\0ignite-ready\n", 14};
inline constexpr std::string_view kExecFailedMarker{"\0ignite-exec-failed ", 20};

// The job's header for the bootstrap. invalid_argument when a string is not UTF-8 (JSON cannot
// carry it; the caller then runs the job cold). `nonce`: [0-9a-f]*.
Result<std::string> encode_job_header(const Job& job, std::string_view nonce = {});

// A fresh nonce for one hand-off (128 random bits, hex).
std::string make_nonce();

// The errno of a failed execve, when `stdout_data` is exactly the exec bootstrap's marker with
// this nonce; nullopt otherwise.
std::optional<int> exec_failure(std::string_view stdout_data, std::string_view nonce);
// The same as the run's error (invalid_argument, as a cold start's failed execve says it).
std::optional<Error> exec_failure_error(std::string_view stdout_data, std::string_view nonce);

// Waits until a bootstrap has written exactly kReadyMarker to `stdout_fd`; `exit_fd` (a pidfd)
// becomes readable when the bootstrap's sandbox ends first. nullopt when ready, else what went
// wrong ("the bootstrap exited", ...), for the caller's error.
std::optional<std::string> await_ready(int stdout_fd, int exit_fd, std::chrono::milliseconds timeout);

// A warm slot's side of Slot::run before the job goes to the bootstrap: an idle bootstrap has
// written nothing and not exited (else `unavailable`: nothing of the job ran, the caller may run
// it elsewhere); the job's files are placed in the drop dirs; the header (with a fresh nonce)
// and the job's stdin are what the bootstrap's stdin gets.
struct HandOff {
  std::string stdin_data;
  std::string nonce;
};
Result<HandOff> prepare_hand_off(const Job& job, int exit_fd, int stdout_fd,
                                 const std::vector<std::filesystem::path>& drop_dirs,
                                 const std::vector<std::filesystem::path>& drop_hosts);

// Up to `max` bytes a pipe holds now, without waiting (a failed bootstrap's stderr).
std::string read_available(int fd, std::size_t max);

// Whether encode_job_header would accept this job.
bool job_is_encodable(const Job& job);

}  // namespace ignite::sandbox
