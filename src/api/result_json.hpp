// The JSON wire format of a run (CONTRACT §4), shared by `run --json`, HTTP and NATS.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/base64.hpp"
#include "core/utf8.hpp"
#include "engine/job.hpp"
#include "preflight/service_checks.hpp"

namespace ignite::api {

// The CONTRACT §4 result document for one finished job. Never throws: output that is not valid
// UTF-8 is base64-encoded and flagged with "stdoutEncoding"/"stderrEncoding": "base64".
nlohmann::json result_document(const engine::JobReport& report);

// The "files" of a result document: [{path, size, mimeType, encoding: utf8|base64, content}].
nlohmann::json files_json(const std::vector<engine::OutputFile>& files);

// {"overallStatus": "pass|warn|fail", "checks": [{name, status, message, value, threshold, unit}]}.
nlohmann::json preflight_json(const preflight::ServiceReport& report);

// "SIGKILL" for 9; "SIGRTMIN+n" for real-time signals; "SIG<n>" for anything unknown.
std::string signal_name(int signal);

// Strict UTF-8 (RFC 3629), from core: transports decide text vs base64 with it.
using ignite::is_valid_utf8;

// `text` with every byte that is not part of well-formed UTF-8 replaced by U+FFFD, for human
// text (messages, details) that must serialize but need not round-trip.
std::string sanitize_utf8(std::string_view text);

// Standard base64 alphabet with '=' padding (RFC 4648 §4).
using ignite::base64_encode;  // core/base64.hpp, here for the API's callers

}  // namespace ignite::api
