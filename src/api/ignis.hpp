// The Ignis job protocol (CONTRACT §6), pure: decoding a job from the `jobs` subject and encoding
// the status updates sent to `job_status.<id>`. No NATS here (src/queue/ is the transport).
//
// A job is {"id","language","code","variant"}; Ignite's own ad-hoc fields (stdin, args, input,
// files, memoryMb, timeoutMs, runtime, version) are accepted beside them, so `serve --nats` can
// forward a whole /v1/jobs request through the same stream.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <variant>

#include <nlohmann/json.hpp>

#include "api/request_error.hpp"
#include "api/requests.hpp"
#include "engine/job.hpp"

namespace ignite::api {

struct IgnisJob {
  std::string id;
  engine::AdhocRequest request;
};

// A job that cannot run. `id` is empty when the message had none that can name a status
// subject; such a job can only be counted and dead-lettered.
struct IgnisRejected {
  std::string id;
  RequestError error;
};

// Ids name a NATS subject token and a KV key: 1..128 of [A-Za-z0-9_-] (UUIDs, ULIDs, hex).
// Anything else (".", "*", ">", spaces) would address other subjects.
bool usable_job_id(std::string_view id);

// `max_code_bytes` bounds the code and files together.
std::variant<IgnisJob, IgnisRejected> decode_ignis_job(std::string_view body, const AdhocLimits& limits,
                                                       std::size_t max_code_bytes);

// A whole ad-hoc request as a job message (the inverse of decode_ignis_job): what `serve --nats`
// publishes for POST /v1/jobs.
nlohmann::json job_message(const std::string& id, const engine::AdhocRequest& request);

// {"id","status":"received"|"running","message"} (the other Ignis fields empty).
nlohmann::json ignis_progress(const std::string& id, std::string_view status, std::string_view message);
// The final update of a run: "done" when it succeeded (result status ok), else "failed" with
// `error` naming the outcome; stdout, stderr, exec_duration (ms), mem_usage (KiB, peak) and the
// whole result document under "result".
nlohmann::json ignis_final(const std::string& id, const nlohmann::json& result_document);
// `status` (a final update) made to fit in `max_bytes` of JSON text: NATS refuses messages over
// the server's max_payload (1 MiB by default), and a result holds its stdout three times
// (Ignis "stdout", result "stdout" and "output") beside stderr. The output fields are cut
// (at a UTF-8 or base64 boundary; the result's "...Truncated" flags set, "message" saying so)
// until it fits; files left in /out go first.
nlohmann::json fit_status(nlohmann::json status, std::size_t max_bytes);
// fit_status as the text to send: serialized once when it fits (the usual case).
std::string fitted_text(const nlohmann::json& status, std::size_t max_bytes);
// True for a well-formed final update of job `id`: what a results bucket (writable by anyone
// with the JetStream API) may answer a redelivered job with. Anything else is run again.
bool valid_final(const nlohmann::json& status, const std::string& id);
// The final update of a job that did not run: "failed" with the error's code and message.
nlohmann::json ignis_failed(const std::string& id, const RequestError& error);

}  // namespace ignite::api
