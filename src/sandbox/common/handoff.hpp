// The hand-off protocol between a backend and the bootstrap of a warm slot (runtimes/warm/).
// The bootstrap owns nothing the program will not own too: it speaks over the program's own
// stdin and stdout, before the program exists, so a warm program gets the very fds a cold one
// would.
//
//   bootstrap -> stdout:  kReadyMarker, once the runtime is loaded (nothing before it, nothing
//                         after it until the program writes)
//   backend   -> stdin:   "<length in bytes>\n" + JSON {"argv":[...],"env":[...],"cwd":"..."},
//                         then the job's own stdin bytes, then EOF
//
// The bootstrap reads exactly <length> bytes (never more: the rest is the program's stdin),
// replaces its environment, argv and cwd with the job's and runs the entry as the runtime's
// own launcher would.
#pragma once
#include <string>
#include <string_view>

#include "core/result.hpp"
#include "sandbox/backend.hpp"

namespace ignite::sandbox {

inline constexpr std::string_view kReadyMarker{"\0ignite-ready\n", 14};

// The job's header for the bootstrap. invalid_argument when a string is not UTF-8 (JSON cannot
// carry it; the caller then runs the job cold).
Result<std::string> encode_job_header(const Job& job);

// Whether encode_job_header would accept this job.
bool job_is_encodable(const Job& job);

}  // namespace ignite::sandbox
